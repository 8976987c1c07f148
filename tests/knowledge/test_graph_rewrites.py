"""The rewrites of the traced graph change its steps, never its results: checked on small graphs run by
ONNX Runtime before and after."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

from knowledge.graph_rewrites import simplify

RNG = np.random.default_rng(14)


def _run(model: onnx.ModelProto, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feed), strict=True))


def _model(
    nodes: list[onnx.NodeProto], constants: dict[str, np.ndarray], outputs: list[str]
) -> onnx.ModelProto:
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.FLOAT, ["texts", "tokens", 8]) for name in ("x", "y")
    ]
    graph = helper.make_graph(
        nodes,
        "rewritten",
        inputs,
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs],
        [numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _same_results(model: onnx.ModelProto) -> onnx.GraphProto:
    """The simplified graph, after checking that it gives what the original gives."""
    feed = {name: RNG.normal(size=(2, 7, 8)).astype(np.float32) for name in ("x", "y")}
    before = _run(model, feed)
    after = _run(simplify(model), feed)
    assert before.keys() == after.keys()
    assert all(np.allclose(after[name], value, rtol=0, atol=1e-5) for name, value in before.items())
    return model.graph


def test_products_of_one_input_become_one_product() -> None:
    widths = {"q": 4, "k": 5, "v": 6}
    constants = {f"w_{n}": RNG.normal(size=(8, w)).astype(np.float32) for n, w in widths.items()}
    constants |= {f"b_{n}": RNG.normal(size=w).astype(np.float32) for n, w in widths.items()}
    constants["w_other"] = RNG.normal(size=(8, 3)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", f"w_{n}"], [f"p_{n}"], name=f"product_{n}") for n in widths]
    nodes += [helper.make_node("Add", [f"b_{n}", f"p_{n}"], [n], name=f"bias_{n}") for n in widths]
    nodes += [  # a product without a bias of its own, and one of another input: both left as they are
        helper.make_node("MatMul", ["x", "w_other"], ["unbiased"], name="unbiased"),
        helper.make_node("MatMul", ["y", "w_q"], ["elsewhere"], name="elsewhere"),
    ]
    graph = _same_results(_model(nodes, constants, [*widths, "unbiased", "elsewhere"]))
    assert sorted(n.op_type for n in graph.node) == ["Add", "MatMul", "MatMul", "MatMul", "Split"]
    assert "w_q" in {t.name for t in graph.initializer}  # still used by the other input's product
    assert not {"w_k", "b_q"} & {t.name for t in graph.initializer}


def _shape_of(source: str, place: int, out: str) -> list[onnx.NodeProto]:
    index = f"{out}_place"
    return [
        helper.make_node("Shape", [source], [f"{out}_shape"]),
        helper.make_node("Constant", [], [index], value=numpy_helper.from_array(np.array(place, np.int64))),
        helper.make_node("Gather", [f"{out}_shape", index], [f"{out}_size"], axis=0),
        helper.make_node("Unsqueeze", [f"{out}_size", "axis_0"], [out]),
    ]


def test_reshapes_that_keep_the_inputs_leading_dimensions_take_a_constant_target() -> None:
    constants = {"axis_0": np.array([0], np.int64), "heads": np.array([2, 4], np.int64)}
    constants["tail"] = np.array([-1], np.int64)
    nodes = [
        *_shape_of("x", 0, "texts"),
        *_shape_of("x", 1, "tokens"),
        helper.make_node("Concat", ["texts", "tokens", "heads"], ["into_heads"], axis=0),
        helper.make_node("Reshape", ["x", "into_heads"], ["split"], name="split"),
        # the tokens moved to the front: the target depends on the shape, and stays computed
        helper.make_node("Concat", ["tokens", "tail"], ["by_token"], axis=0),
        helper.make_node("Reshape", ["y", "by_token"], ["moved"], name="moved"),
    ]
    graph = _same_results(_model(nodes, constants, ["split", "moved"]))
    constant = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    targets = {n.name: n.input[1] for n in graph.node if n.op_type == "Reshape"}
    assert constant[targets["split"]].tolist() == [0, 0, 2, 4]
    assert targets["moved"] == "by_token"
    assert sum(n.op_type == "Shape" for n in graph.node) == 1  # only what the moved reshape still needs
