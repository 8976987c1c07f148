"""Files kept with the index beside Chroma's: the exported encoder and caches of vectors, each content-hashed
and rebuilt when missing, stale or damaged. A process that answers reads these files and imports neither
torch nor chromadb (importing chromadb alone takes longer here than loading every file below).

Vectors belong to the model: they are cached under the model's digest (its packaged files and the export
recipe), so a new model version re-embeds everything, and any encoder of the same model may fill them."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.embedding import EMBEDDING_DIM, ENCODER_FILES, model_path

ENCODER_DIR = "encoder"
MANIFEST = "manifest.json"
LOCK_FILE = ".lock"
EXPORT_RECIPE = (
    "mean-pooled, normalised, 256 tokens, opset 17, 8-bit weights in blocks of 32, int8 products, "
    "a layer's query, key and value in one product, constant reshape targets, a broadcast mask, "
    "the word embeddings in a file of their own; 6"
)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncoderFiles:
    folder: Path
    model: str  # digest of the model the graph was exported from: the key of every cached vector


def file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@contextlib.contextmanager
def index_lock(index_dir: Path) -> Iterator[None]:
    """Held while the index is opened, built or repaired: server processes that start together on one
    index (`ribot serve --processes N`, or `ribot ingest` beside a server) build it once; the others wait,
    then find it current. Where the folder cannot be written, nothing could be built there either, and
    opening goes on without the lock."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = (index_dir / LOCK_FILE).open("a")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.chmod(temporary, 0o644)  # mkstemp makes files private; the index is shared like Chroma's files
    os.replace(temporary, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _model_files() -> dict[str, list[int]]:
    root = model_path()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): [p.stat().st_size, p.stat().st_mtime_ns] for p in files}


def model_digest(known: dict[str, Any] | None = None) -> tuple[str, dict[str, list[int]]]:
    """The packaged model's digest and its files' sizes and times. `known` (a manifest) saves reading the
    files when their sizes and times and the export recipe are the ones it recorded."""
    files = _model_files()
    if (
        known
        and known.get("model_files") == files
        and known.get("recipe") == EXPORT_RECIPE
        and isinstance(known.get("model"), str)
    ):
        return str(known["model"]), files
    digest = hashlib.sha256(EXPORT_RECIPE.encode())
    for name in files:
        digest.update(f"\0{name}\0{file_digest(model_path() / name)}".encode())
    return digest.hexdigest(), files


def current_model(index_dir: Path) -> str:
    return model_digest(read_json(index_dir / ENCODER_DIR / MANIFEST))[0]


def _verified(folder: Path, manifest: dict[str, Any] | None, model: str) -> bool:
    if not manifest or manifest.get("model") != model:
        return False
    try:
        return all(file_digest(folder / name) == manifest.get(name) for name in ENCODER_FILES)
    except OSError:
        return False


def prepare_encoder(index_dir: Path) -> EncoderFiles:
    """The index's exported encoder, exported first when missing, stale or damaged (needs torch)."""
    folder = index_dir / ENCODER_DIR
    manifest = read_json(folder / MANIFEST)
    model, files = model_digest(manifest)
    if _verified(folder, manifest, model):
        if manifest and manifest.get("model_files") != files:
            _write_manifest(folder, model, files)  # the package was reinstalled unchanged
        return EncoderFiles(folder, model)
    log.info("exporting the embedding model to ONNX into %s", folder)
    index_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=index_dir, prefix=".encoder-"))
    try:
        from knowledge.onnx_export import export_encoder

        export_encoder(staging)
        folder.mkdir(exist_ok=True)
        (folder / MANIFEST).unlink(missing_ok=True)
        for name in ENCODER_FILES:
            os.replace(staging / name, folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _write_manifest(folder, model, files)
    return EncoderFiles(folder, model)


def _write_manifest(folder: Path, model: str, files: dict[str, list[int]]) -> None:
    manifest: dict[str, Any] = {name: file_digest(folder / name) for name in ENCODER_FILES}
    manifest.update(model=model, model_files=files, recipe=EXPORT_RECIPE)
    write_atomically(folder / MANIFEST, json.dumps(manifest, indent=1).encode())


def load_vectors(stem: Path, model: str) -> dict[str, tuple[str, np.ndarray]]:
    """Cached rows (`stem`.npy, named in `stem`.json) of `model`: key -> (content hash, vector). Empty when
    missing, of another model or damaged."""
    index = read_json(stem.with_suffix(".json"))
    if not index or index.get("model") != model:
        return {}
    try:
        data = stem.with_suffix(".npy").read_bytes()
        rows = index["rows"]
        if hashlib.sha256(data).hexdigest() != index.get("sha256"):
            return {}
        matrix = np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, KeyError, ValueError):
        return {}
    if matrix.shape != (len(rows), EMBEDDING_DIM) or matrix.dtype != np.float32:
        return {}
    return {str(key): (str(content), matrix[n]) for n, (key, content) in enumerate(rows)}


def save_vectors(
    stem: Path, model: str, keys: Sequence[str], hashes: Sequence[str], matrix: np.ndarray
) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(matrix, dtype=np.float32), allow_pickle=False)
    data = buffer.getvalue()
    write_atomically(stem.with_suffix(".npy"), data)
    index = {
        "model": model,
        "sha256": hashlib.sha256(data).hexdigest(),
        "rows": list(zip(keys, hashes, strict=True)),
    }
    write_atomically(stem.with_suffix(".json"), json.dumps(index).encode())
