"""Rewrites of the traced float32 graph that change its steps, not its results: fewer and wider steps run
faster at the few dozen tokens of a question. Ingestion applies them before the weights are quantised
(knowledge/onnx_export.py); they need `onnx` and ONNX Runtime's shape inference, never torch.

Measured on 2 cores with the 168 questions of dev.yaml, dev2.yaml and the probe set, one at a time, each
graph against the other question by question: one query-key-value product per layer made a pass about a
tenth shorter, constant reshape targets about 5 % more."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

Members = list[tuple[Any, Any, str]]  # (product, bias addition, name of the bias)


def simplify(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with both rewrites applied and the steps and constants they leave unused removed."""
    _fuse_shared_products(model)
    _constant_reshape_targets(model)
    _prune(model.graph)
    return model


def _fuse_shared_products(model: onnx.ModelProto) -> None:
    """Products of one input by constant matrices, each followed by its constant bias, become one product by
    the matrices side by side, one bias and a split: each layer's query, key and value. Quantised in blocks
    of one column, the weights are the same, and so are the vectors, bit for bit; 24 products instead of
    36, each wider, are fewer and larger steps to share between the threads."""
    graph = model.graph
    constants = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    replaced: dict[str, list[Any]] = {}
    for source, members in _shared_products(graph, constants).items():
        name = f"{members[0][0].name}_shared"
        weight = np.concatenate([constants[product.input[1]] for product, _, _ in members], axis=1)
        bias = np.concatenate([constants[bias] for _, _, bias in members])
        widths = np.array([constants[product.input[1]].shape[1] for product, _, _ in members], np.int64)
        for suffix, value in (("weight", weight), ("bias", bias), ("widths", widths)):
            graph.initializer.append(numpy_helper.from_array(value, f"{name}_{suffix}"))
        outputs = [add.output[0] for _, add, _ in members]
        replaced.update({node.output[0]: [] for product, add, _ in members for node in (product, add)})
        replaced[members[0][0].output[0]] = _product_and_split(name, source, outputs)
    nodes = [new for node in graph.node for new in replaced.get(node.output[0], [node])]
    del graph.node[:]
    graph.node.extend(nodes)


def _shared_products(graph: Any, constants: dict[str, np.ndarray]) -> dict[str, Members]:
    """By input, the (product, bias addition, bias name) of each product of that input by a constant
    matrix whose only use is the addition of a constant bias; only inputs with more than one."""
    users: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    groups: dict[str, Members] = {}
    for product in graph.node:
        after = users.get(product.output[0], [])
        if product.op_type != "MatMul" or product.input[1] not in constants or len(after) != 1:
            continue
        bias = [name for name in after[0].input if name in constants]
        if after[0].op_type == "Add" and len(bias) == 1:
            groups.setdefault(product.input[0], []).append((product, after[0], bias[0]))
    return {source: members for source, members in groups.items() if len(members) > 1}


def _product_and_split(name: str, source: str, outputs: list[str]) -> list[Any]:
    return [
        helper.make_node("MatMul", [source, f"{name}_weight"], [f"{name}_product"], name=name),
        helper.make_node("Add", [f"{name}_product", f"{name}_bias"], [f"{name}_sum"], name=f"{name}_add"),
        helper.make_node("Split", [f"{name}_sum", f"{name}_widths"], outputs, name=f"{name}_split", axis=-1),
    ]


def _constant_reshape_targets(model: onnx.ModelProto) -> None:
    """A reshape whose every output dimension is a number or the input's own dimension at the same place
    (the attention's split into heads and back) takes a constant target, 0 standing for "as in the
    input", instead of one computed at every pass from the input's shape (five steps each)."""
    from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

    inferred = SymbolicShapeInference.infer_shapes(model, auto_merge=True)
    shapes = {
        value.name: [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
        for value in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]
    }
    for node in model.graph.node:
        allows_zero = any(a.name == "allowzero" and a.i for a in node.attribute)
        if node.op_type != "Reshape" or allows_zero:
            continue
        target = _constant_target(shapes.get(node.input[0]), shapes.get(node.output[0]))
        if target is not None:
            name = f"{node.name}_target"
            model.graph.initializer.append(numpy_helper.from_array(np.array(target, np.int64), name))
            node.input[1] = name


def _constant_target(source: list[Any] | None, result: list[Any] | None) -> list[int] | None:
    if not source or not result:
        return None
    target = []
    for place, size in enumerate(result):
        if isinstance(size, int) and size > 0:
            target.append(size)
        elif place < len(source) and isinstance(size, str) and source[place] == size:
            target.append(0)
        else:
            return None
    return target


def _prune(graph: Any) -> None:
    """Removes the steps whose results nothing uses, then the constants no step uses."""
    outputs = {value.name for value in graph.output}
    nodes = list(graph.node)
    while True:
        used = outputs | {name for node in nodes for name in node.input}
        kept = [node for node in nodes if any(name in used for name in node.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    constants = [tensor for tensor in graph.initializer if tensor.name in used]
    del graph.node[:], graph.initializer[:]
    graph.node.extend(nodes)
    graph.initializer.extend(constants)
