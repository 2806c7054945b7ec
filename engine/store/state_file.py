"""A strategy's checkpoint state as one file of numpy arrays and JSON, written and read without torch.

Why not ``torch.save``: it needs torch, whose import costs about a second, and the
compiled LSTM path (most runs) uses no torch at all; and reading a pickle, even with
torch's restricted unpickler, is more machinery than plain data needs. No maintained
library stores nested dicts of arrays and numbers without pickle (``np.savez`` holds
flat arrays only; safetensors holds flat tensors only and is not a dependency), so
this module writes the structure as JSON beside the arrays as ``.npy``.

The file is an uncompressed ZIP archive (the layout of ``np.savez``):
``state.json`` holds ``{"format": FORMAT_NAME, "state": value}`` where a value is a
JSON scalar (None, bool, int, float including NaN and infinities, str) or one of
``{"list": [...]}``, ``{"tuple": [...]}``, ``{"dict": [[key, value], ...]}`` (str, int
or bool keys, in order), ``{"array": k}`` (a numpy array) or ``{"tensor": k, "dtype": d}``
(a torch tensor, rebuilt on the CPU with torch, imported only then); ``k`` names the
member ``arrays/<k>.npy``. bfloat16 tensors, which numpy cannot hold, are stored as
their uint16 bits.

Reading never executes anything: JSON and ``.npy`` headers are parsed, never
unpickled (``allow_pickle=False``); every member must be stored uncompressed and
fit in the file; ``state.json`` holds at most :data:`MAX_JSON_BYTES`; an array's
header must declare exactly the bytes that follow it, of a numeric dtype, at most
``max_bytes``, and each array is named once (all of them together fit in the file);
anything else in the archive or the JSON, a damaged archive included, is refused
with :class:`StateFileError` saying what.
"""

from __future__ import annotations

import io
import json
import math
import sys
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

FORMAT_NAME = "stock-rnn state 1"
MAX_JSON_BYTES = 16 * 2**20  # state.json: the structure and the values outside arrays [bytes]
_SCALARS = (str, int, float, bool, type(None))
# torch dtypes a state may hold, by their name without "torch.": numpy's dtype of the same bits
_TENSOR_DTYPES = {
    "float64": "float64",
    "float32": "float32",
    "float16": "float16",
    "bfloat16": "uint16",  # numpy has no bfloat16: the bits, viewed back on reading
    "int64": "int64",
    "int32": "int32",
    "int16": "int16",
    "int8": "int8",
    "uint8": "uint8",
    "bool": "bool",
    "complex64": "complex64",
    "complex128": "complex128",
}


class NotPlainData(TypeError):
    """A state holds something that is not an array, a tensor or plain data (``where`` says what)."""


class StateFileError(ValueError):
    """A state file that this program did not write, or that declares more than it holds."""


def write_state(fh: IO[bytes], state: Any) -> None:
    """Write ``state`` (nested dicts with str or int keys, lists, tuples, scalars, numpy arrays, torch
    tensors) into ``fh``; NotPlainData naming the first value that is none of these."""
    arrays: list[np.ndarray] = []
    doc = {"format": FORMAT_NAME, "state": _encode(state, "state", arrays)}
    text = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    if len(text) > MAX_JSON_BYTES:  # refused on reading: say so now, when the state is made
        raise NotPlainData(
            f"state: {len(text)} bytes of numbers, strings and lists outside arrays, more than "
            f"{MAX_JSON_BYTES} (hold many numbers in numpy arrays)"
        )
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("state.json", text)
        for k, array in enumerate(arrays):
            with archive.open(f"arrays/{k}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _encode(value: Any, where: str, arrays: list[np.ndarray]) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, np.generic):
        if value.dtype.kind not in "biuf":  # a date or bytes would not be a JSON number
            raise NotPlainData(f"{where}: a numpy scalar of dtype {value.dtype}")
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise NotPlainData(f"{where}: a numpy array of dtype {value.dtype}")
        arrays.append(value if value.flags.c_contiguous else value.copy(order="C"))  # keeps 0-d arrays 0-d
        return {"array": len(arrays) - 1}
    torch = sys.modules.get("torch")  # a tensor exists only where torch was imported
    if torch is not None and isinstance(value, torch.Tensor):
        name = str(value.dtype).removeprefix("torch.")
        if name not in _TENSOR_DTYPES:
            raise NotPlainData(f"{where}: a tensor of dtype {name}")
        data = value.detach().cpu().contiguous()
        if name == "bfloat16":
            data = data.view(torch.int16)
        arrays.append(data.numpy().view(_TENSOR_DTYPES[name]))
        return {"tensor": len(arrays) - 1, "dtype": name}
    if isinstance(value, dict):
        bad = next((k for k in value if not isinstance(k, str | int)), None)  # bool is an int
        if bad is not None:
            raise NotPlainData(f"{where}: a dict key of type {type(bad).__name__}")
        return {"dict": [[k, _encode(v, f"{where}.{k}", arrays)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        items = [_encode(v, f"{where}[{i}]", arrays) for i, v in enumerate(value)]
        return {"list" if isinstance(value, list) else "tuple": items}
    raise NotPlainData(f"{where}: {type(value).__module__}.{type(value).__qualname__}")


def read_state(path: Path, max_bytes: int) -> Any:
    """The state :func:`write_state` wrote to ``path``, with every size checked before it is read;
    StateFileError saying what is wrong otherwise (OSError when the file cannot be read).

    Bounds: ``state.json`` at most :data:`MAX_JSON_BYTES`; each array at most ``max_bytes`` and
    named once; all arrays together at most the file's size (the members are stored, not
    compressed). A damaged archive (a bad checksum, a forged header) is a StateFileError too.
    """
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            return _read(archive, size, max_bytes)
    except StateFileError:
        raise
    except RecursionError:
        raise StateFileError("state.json nests deeper than this program writes") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, RuntimeError, ValueError, TypeError) as exc:
        # ValueError includes UnicodeDecodeError and json's errors; RuntimeError an encrypted member
        raise StateFileError(f"not a state file of this program ({type(exc).__name__}: {exc})") from None


def _read(archive: zipfile.ZipFile, size: int, max_bytes: int) -> Any:
    members = {}
    for info in archive.infolist():
        if (
            info.compress_type != zipfile.ZIP_STORED
            or info.file_size > size
            or info.is_dir()
            or info.flag_bits & 1
        ):
            raise StateFileError(f"member {info.filename[:80]!r} is not a stored file within the file's size")
        members[info.filename] = info
    info = members.get("state.json")
    if info is None:
        raise StateFileError(
            "not a state file of this program (no state.json: e.g. a torch.save pickle, never unpickled)"
        )
    if info.file_size > MAX_JSON_BYTES:
        raise StateFileError(
            f"state.json holds {info.file_size} bytes, more than this program writes ({MAX_JSON_BYTES})"
        )
    doc = json.loads(archive.read(info).decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME or "state" not in doc:
        raise StateFileError(f"state.json does not say format {FORMAT_NAME!r}")
    return _Reader(archive, members, max_bytes, size).decode(doc["state"], ("state",))


def _where(path: tuple[Any, ...]) -> str:
    """``state.params[0]`` from ``("state", "params", 0)`` (keys cut to 40 characters), for errors only."""
    out = str(path[0])
    for key in path[1:]:
        out += f"[{key}]" if type(key) is int else f".{str(key)[:40]}"
    return out


class _Reader:
    """Decodes ``state.json``'s values, reading each array member when it is named (checked first)."""

    def __init__(
        self, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], max_bytes: int, budget: int
    ) -> None:
        self.archive, self.members, self.max_bytes = archive, members, max_bytes
        self.budget = budget  # bytes all arrays together may still take: the file holds them all
        self.used: set[int] = set()

    def decode(self, value: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(value, _SCALARS):
            return value
        if not isinstance(value, dict) or len(value) not in (1, 2):
            raise StateFileError(f"{_where(path)}: not a value this program writes")
        tag = next(iter(value))
        body = value[tag]
        if tag in ("list", "tuple") and isinstance(body, list) and len(value) == 1:
            items = [self.decode(v, (*path, i)) for i, v in enumerate(body)]
            return items if tag == "list" else tuple(items)
        if tag == "dict" and isinstance(body, list) and len(value) == 1:
            out: dict[Any, Any] = {}
            for pair in body:
                if not (isinstance(pair, list) and len(pair) == 2 and type(pair[0]) in (str, int, bool)):
                    raise StateFileError(f"{_where(path)}: a dict entry this program does not write")
                out[pair[0]] = self.decode(pair[1], (*path, pair[0]))
            return out
        if tag == "array" and len(value) == 1 and type(body) is int:
            return self.array(body, path)
        dtype = value.get("dtype")
        if tag == "tensor" and type(body) is int and type(dtype) is str and dtype in _TENSOR_DTYPES:
            return _tensor(self.array(body, path), dtype, _where(path))
        raise StateFileError(f"{_where(path)}: not a value this program writes")

    def array(self, k: int, path: tuple[Any, ...]) -> np.ndarray:
        name = f"arrays/{k}.npy"
        info = self.members.get(name)
        if info is None or k in self.used:  # the writer names each array once
            raise StateFileError(
                f"{_where(path)}: its array {name} is " + ("missing" if info is None else "named twice")
            )
        self.used.add(k)
        with self.archive.open(info) as member:
            stream = io.BufferedReader(member)  # type: ignore[arg-type]
            try:
                shape, fortran, dtype = checked_npy_header(
                    stream, info.file_size, min(self.max_bytes, self.budget)
                )
            except (ValueError, EOFError, TypeError) as exc:
                raise StateFileError(f"{_where(path)}: {name}: {exc}") from None
            declared = math.prod(shape) * dtype.itemsize
            self.budget -= declared
            data = np.frombuffer(stream.read(declared), dtype=dtype).copy()
        return data.reshape(shape, order="F" if fortran else "C")


def checked_npy_header(stream: IO[bytes], size: int, limit: int) -> tuple[tuple[int, ...], bool, np.dtype]:
    """The (shape, fortran order, dtype) of the ``.npy`` of ``size`` bytes that ``stream`` starts, read
    and checked before any of its data is: numbers only, a plain shape, and exactly the bytes after
    the header that it declares, at most ``limit``; ValueError saying what otherwise. The stream is
    left at the start of the data."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"npy format version {version}")
    if dtype.hasobject or dtype.kind not in "biufc":
        raise ValueError(f"dtype {dtype} (numbers only)")
    if len(shape) > 32 or any(type(n) is not int or n < 0 for n in shape):
        raise ValueError(f"shape {shape!r}")
    declared = math.prod(shape) * dtype.itemsize
    held = size - stream.tell()
    if declared != held or declared > limit:
        raise ValueError(
            f"its header declares shape {tuple(shape)} of {dtype} = {declared} bytes but it holds {held} "
            "bytes after it" + (f" (at most {limit} bytes are read)" if declared > limit else "")
        )
    return tuple(shape), bool(fortran), dtype


def _tensor(array: np.ndarray, dtype: str, where: str) -> Any:
    """The torch tensor ``array`` holds (its bits, for bfloat16)."""
    if array.dtype != np.dtype(_TENSOR_DTYPES[dtype]):
        raise StateFileError(f"{where}: a {dtype} tensor stored as {array.dtype}")
    import torch  # only states that hold tensors (torch strategies) need it

    if dtype == "bfloat16":  # the bits as int16, which every torch converts from numpy
        return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(array)
