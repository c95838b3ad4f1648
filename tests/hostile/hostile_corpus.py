"""The hostile-input corpus: bad files a user (or a damaged archive) can feed VeerDesk.

Every case is generated here from a few lines of code instead of being committed as a binary, so the
repository stays small and each case says how it was made. The same cases seed the fuzzers (``fuzz/``).
No pytest import: the fuzz harnesses use this module outside the test run.

A case names what must happen: ``None`` means the input is odd but legitimate and must load; an error
class means exactly that :class:`~veerdesk.core.errors.VeerDeskError` subclass must be raised, with a
one-line message. ``bug`` marks a case that fails today because of a known defect in another module;
the tests mark it ``xfail(strict=True)`` so the mark must be removed when the defect is fixed.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from veerdesk.core.errors import ImageError, LayoutError, ModelError, ProjectError, VeerDeskError

# Strings that mean a Python internal leaked into a message meant for a geologist.
LEAKED_INTERNALS = ("Traceback", "sys.set_int_max_str_digits", "object at 0x", "Errno")
MAX_MESSAGE_CHARS = 400


def message_problem(message: str) -> str | None:
    """Why ``message`` is not a one-line message for a person, or None when it is fine."""
    if not message.strip():
        return "empty message"
    if "\n" in message or "\r" in message:
        return "message spans several lines"
    if len(message) > MAX_MESSAGE_CHARS:
        return f"message is {len(message)} characters long"
    for leaked in LEAKED_INTERNALS:
        if leaked in message:
            return f"message shows a Python internal ({leaked!r})"
    return None


# =========================================================================== images
@dataclass(frozen=True)
class ImageCase:
    name: str
    filename: str
    data: bytes
    # What probe_image (headers only, also `veerdesk info`) and load_page must do.
    probe: type[VeerDeskError] | None
    load: type[VeerDeskError] | None
    page: int = 0
    # For cases that must load: the expected mean of the uint8 pixels (paper = 255), within 2 levels.
    mean: float | None = None
    bug: str | None = None


def _pil_bytes(image, fmt: str, **save_args) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **save_args)
    return buf.getvalue()


def _tifffile_bytes(array: np.ndarray, **write_args) -> bytes:
    import tifffile

    buf = io.BytesIO()
    tifffile.imwrite(buf, array, **write_args)
    return buf.getvalue()


def _log_like(width: int = 64, height: int = 96) -> np.ndarray:
    """A tiny 'scan': white paper, grid lines and a wiggly curve, as uint8 gray."""
    page = np.full((height, width), 255, np.uint8)
    page[:, ::16] = 0
    page[::24, :] = 0
    rows = np.arange(height)
    page[rows, (width / 2 + width / 3 * np.sin(rows / 9)).astype(int)] = 0
    return page


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header declaring ``width`` x ``height`` 1-bit pixels, followed by a few bytes of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def tiff_bomb(width: int, height: int) -> bytes:
    """A little-endian bilevel TIFF whose single strip claims ``width`` x ``height`` pixels but holds 16 bytes."""
    body = b"\0" * 16
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 1), (259, 3, 1, 1), (262, 3, 1, 0),
               (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, len(body))]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"
    return b"II*\0" + struct.pack("<I", 8 + len(body)) + body + ifd


def jpeg_bomb(width: int, height: int) -> bytes:
    """A real JPEG whose SOF0 frame header is rewritten to declare ``width`` x ``height``."""
    from PIL import Image

    data = bytearray(_pil_bytes(Image.new("L", (8, 8), 255), "JPEG"))
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _multipage_tiff() -> tuple[bytes, int]:
    """A valid two-page TIFF and the offset of the first IFD's 'next IFD' pointer."""
    from PIL import Image

    pages = [Image.fromarray(_log_like()), Image.fromarray(255 - _log_like())]
    data = _pil_bytes(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    first_ifd = struct.unpack("<I", data[4:8])[0]
    count = struct.unpack("<H", data[first_ifd:first_ifd + 2])[0]
    return data, first_ifd + 2 + 12 * count


def _with_second_page_bits(data: bytes, pointer_at: int, bits: int) -> bytes:
    """The two-page TIFF with BitsPerSample of its second page set to ``bits``."""
    patched = bytearray(data)
    second = struct.unpack("<I", data[pointer_at:pointer_at + 4])[0]
    for i in range(struct.unpack("<H", data[second:second + 2])[0]):
        entry = second + 2 + 12 * i
        if struct.unpack("<H", data[entry:entry + 2])[0] == 258:
            patched[entry + 8:entry + 10] = struct.pack("<H", bits)
    return bytes(patched)


def _undefined_resolution_tiff() -> bytes:
    """A TIFF whose YResolution is one byte of type UNDEFINED instead of a rational (found by the fuzzer)."""
    patched = bytearray(_tifffile_bytes(np.full((20, 30), 200, np.uint8), resolution=(1, 1), resolutionunit=1))
    ifd = struct.unpack("<I", patched[4:8])[0]
    for i in range(struct.unpack("<H", patched[ifd:ifd + 2])[0]):
        entry = ifd + 2 + 12 * i
        if struct.unpack("<H", patched[entry:entry + 2])[0] == 283:
            patched[entry + 2:entry + 12] = struct.pack("<HI", 7, 1) + b"\xee\0\0\0"
    return bytes(patched)


def _with_next_ifd(data: bytes, pointer_at: int, target: int) -> bytes:
    patched = bytearray(data)
    patched[pointer_at:pointer_at + 4] = struct.pack("<I", target)
    return bytes(patched)


def _transparent_palette_png() -> bytes:
    """A palette PNG whose only colour is black but fully transparent: it must read as blank paper."""
    from PIL import Image

    image = Image.new("P", (10, 10), 0)
    image.putpalette([0, 0, 0] * 256)
    return _pil_bytes(image, "PNG", transparency=0)


def minimal_pdf(mediabox: bytes = b"[0 0 612 792]", pages: int = 1) -> bytes:
    """A hand-written PDF with empty pages (no drawing operators) and a correct xref table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
               + b"] /Count %d >>" % pages]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox " + mediabox + b" >>"] * pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def image_cases() -> list[ImageCase]:
    from PIL import Image

    page = _log_like()
    mean = float(page.mean())
    gray = Image.fromarray(page)
    png = _pil_bytes(gray, "PNG")
    g4 = _pil_bytes(gray.convert("1"), "TIFF", compression="group4")
    noisy = (np.random.default_rng(8).random((64, 64)) * 255).astype(np.uint8)
    noisy_png = _pil_bytes(Image.fromarray(noisy), "PNG")
    jpeg = _pil_bytes(Image.fromarray(noisy), "JPEG", quality=90)
    multipage, next_ifd_at = _multipage_tiff()
    pdf = minimal_pdf()
    return [
        # --- empty, truncated, not an image at all
        ImageCase("zero-byte", "empty.tif", b"", ImageError, ImageError),
        ImageCase("tiff-magic-only", "magic.tif", b"II*\0", ImageError, ImageError),
        ImageCase("png-signature-only", "signature.png", png[:8], ImageError, ImageError),
        ImageCase("truncated-png", "truncated.png", noisy_png[: len(noisy_png) // 2], None, ImageError),
        ImageCase("truncated-jpeg", "truncated.jpg", jpeg[: len(jpeg) // 2], None, ImageError),
        ImageCase("truncated-g4-tiff", "truncated-g4.tif", g4[: len(g4) * 2 // 3], ImageError, ImageError),
        ImageCase("text-named-tif", "notes.tif", b"Depth 1200 ft, GR 0-150\n" * 4, ImageError, ImageError),
        ImageCase("html-named-png", "page.png", b"<!doctype html><html><body>404</body></html>", ImageError,
                  ImageError),
        ImageCase("random-bytes", "scan.tiff", bytes(np.random.default_rng(1).integers(0, 256, 4096, np.uint8)),
                  ImageError, ImageError),
        ImageCase("png-bad-crc", "bad-crc.png", png[:29] + b"\0\0\0\0" + png[33:], ImageError, ImageError),
        ImageCase("zero-width-tiff", "zero-width.tif", tiff_bomb(0, 10), ImageError, ImageError),
        # --- wrong extension on a good file: the content decides, so these load
        ImageCase("png-named-tif", "scan.tif", png, None, None, mean=mean),
        ImageCase("g4-tiff-named-jpg", "scan.jpg", g4, None, None, mean=mean),
        ImageCase("pdf-named-png", "scan.png", pdf, None, None, mean=255.0),
        ImageCase("no-extension", "scan", png, None, None, mean=mean),
        # --- unusual sample formats and colour modes: legitimate, must load with paper = 255
        ImageCase("gray16-tiff", "gray16.tif", _tifffile_bytes(np.full((20, 30), 65535, np.uint16)), None, None,
                  mean=255.0),
        ImageCase("rgb16-tiff", "rgb16.tif",
                  _tifffile_bytes(np.full((20, 30, 3), 65535, np.uint16), photometric="rgb"), None, None, mean=255.0),
        ImageCase("float32-tiff", "float32.tif", _tifffile_bytes(np.full((20, 30), 0.5, np.float32)), None, None,
                  mean=127.5),
        ImageCase("float32-nan-tiff", "nan.tif", _tifffile_bytes(np.full((20, 30), np.nan, np.float32)), None, None,
                  mean=255.0),
        ImageCase("float64-tiff", "float64.tif", _tifffile_bytes(np.full((20, 30), 1.0, np.float64)), None, None,
                  mean=255.0),
        ImageCase("resolution-of-type-undefined", "resolution.tif", _undefined_resolution_tiff(), None, None,
                  mean=200.0),
        ImageCase("int32-tiff", "int32.tif", _tifffile_bytes(np.zeros((20, 30), np.int32)), None, None, mean=0.0),
        ImageCase("planar-rgb-tiff", "planar.tif",
                  _tifffile_bytes(np.full((3, 20, 30), 255, np.uint8), photometric="rgb", planarconfig="separate"),
                  None, None, mean=255.0),
        ImageCase("palette-png", "palette.png", _pil_bytes(gray.convert("P"), "PNG"), None, None, mean=mean),
        ImageCase("palette-transparent-png", "palette-t.png", _transparent_palette_png(), None, None, mean=255.0),
        ImageCase("rgba-transparent-png", "rgba.png", _pil_bytes(Image.new("RGBA", (10, 10), (0, 0, 0, 0)), "PNG"),
                  None, None, mean=255.0),
        ImageCase("la-png", "la.png", _pil_bytes(Image.new("LA", (10, 10), (0, 255)), "PNG"), None, None, mean=0.0),
        ImageCase("cmyk-tiff", "cmyk.tif", _pil_bytes(Image.new("CMYK", (10, 10), (0, 0, 0, 0)), "TIFF"), None,
                  None, mean=255.0),
        ImageCase("cmyk-jpeg", "cmyk.jpg", _pil_bytes(Image.new("CMYK", (10, 10), (0, 0, 0, 0)), "JPEG"), None,
                  None, mean=255.0),
        ImageCase("png16", "gray16.png", _pil_bytes(Image.new("I;16", (10, 10), 0), "PNG"), None, None, mean=0.0),
        # --- decompression bombs: huge declared size, tiny file; refused before decoding
        ImageCase("png-bomb-10-gigapixels", "bomb.png", png_bomb(100_000, 100_000), None, ImageError),
        ImageCase("png-bomb-max-size", "bomb-max.png", png_bomb(2**31 - 1, 2**31 - 1), None, ImageError),
        ImageCase("tiff-bomb-40-gigapixels", "bomb.tif", tiff_bomb(200_000, 200_000), None, ImageError),
        ImageCase("jpeg-bomb", "bomb.jpg", jpeg_bomb(65_000, 65_000), None, ImageError),
        ImageCase("pdf-bomb", "bomb.pdf", minimal_pdf(b"[0 0 14400 14400]"), None, ImageError),
        # --- multipage TIFFs
        ImageCase("multipage-page-2", "two-pages.tif", multipage, None, None, page=1, mean=255 - mean),
        ImageCase("multipage-page-3-missing", "two-pages.tif", multipage, ImageError, ImageError, page=2),
        ImageCase("multipage-next-ifd-past-end", "bad-ifd.tif",
                  _with_next_ifd(multipage, next_ifd_at, 10**8), ImageError, ImageError),
        ImageCase("multipage-next-ifd-misaligned", "bad-ifd2.tif",
                  _with_next_ifd(multipage, next_ifd_at, next_ifd_at - 1), ImageError, ImageError, page=1),
        ImageCase("multipage-second-page-7-bit", "odd-bits.tif", _with_second_page_bits(multipage, next_ifd_at, 7),
                  ImageError, ImageError),
        ImageCase("multipage-ifd-loop", "loop.tif",
                  _with_next_ifd(multipage, next_ifd_at, struct.unpack("<I", multipage[4:8])[0]), None, None,
                  mean=mean),
        ImageCase("multipage-second-page-truncated", "cut.tif", multipage[: len(multipage) - 40], None, ImageError,
                  page=1),
        # --- broken PDFs
        ImageCase("pdf-header-only", "header.pdf", b"%PDF-", ImageError, ImageError),
        ImageCase("pdf-garbage-body", "garbage.pdf", b"%PDF-1.4\n" + b"\x00\xff" * 500, ImageError, ImageError),
        ImageCase("pdf-truncated", "truncated.pdf", pdf[: len(pdf) // 2], ImageError, ImageError),
        ImageCase("pdf-no-pages", "no-pages.pdf", minimal_pdf(pages=0), ImageError, ImageError),
        ImageCase("pdf-page-2-missing", "one-page.pdf", pdf, ImageError, ImageError, page=1),
        ImageCase("pdf-degenerate-mediabox", "flat.pdf", minimal_pdf(b"[0 0 0 0]"), None, None, mean=255.0),
    ]


# =========================================================================== layouts
@dataclass(frozen=True)
class LayoutCase:
    name: str
    text: str | bytes
    error: type[VeerDeskError] | None = LayoutError
    bug: str | None = None


def good_layout() -> dict:
    return {
        "version": 1,
        "well": {"name": "SMITH 1-32", "uwi": "15-131-20215", "company": "", "field": ""},
        "depth": {"unit": "FT", "ties": [[4.0, 1200.0], [60.0, 1210.0]], "step": 0.5},
        "tracks": [
            {"x0": 2, "x1": 30, "scale": "linear",
             "curves": [{"mnemonic": "GR", "unit": "GAPI", "left": 0, "right": 150, "style": "solid"},
                        {"mnemonic": "CALI", "unit": "IN", "left": 6, "right": 16, "style": "dashed",
                         "backup": {"left": 16, "right": 26}}]},
            {"x0": 34, "x1": 62, "scale": "log",
             "curves": [{"mnemonic": "ILD", "unit": "OHMM", "left": 0.2, "right": 2000, "style": "solid"}]},
        ],
    }


def _edit(change: Callable[[dict], object]) -> str:
    layout = good_layout()
    change(layout)
    return json.dumps(layout)


def _set(path: str, value) -> str:
    """The good layout with the value at a dotted/indexed ``path`` replaced (JSON text)."""

    def change(layout: dict) -> None:
        node = layout
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return _edit(change)


def _raw(path: str, literal: str) -> str:
    """Like :func:`_set` but splices a raw JSON literal (NaN, 1e400, a 400-digit integer...)."""
    marker = "__RAW_LITERAL__"
    return _set(path, marker).replace(json.dumps(marker), literal)


def layout_cases() -> list[LayoutCase]:
    text = json.dumps(good_layout())
    return [
        LayoutCase("good", text, None),
        LayoutCase("good-with-bom", ("\ufeff" + text).encode("utf-8"), None),
        # --- not JSON / not an object
        LayoutCase("empty", ""),
        LayoutCase("whitespace", "  \n "),
        LayoutCase("truncated", text[: len(text) // 2]),
        LayoutCase("binary", bytes(range(256)) * 4),
        LayoutCase("utf16", text.encode("utf-16")),
        LayoutCase("root-list", "[]"),
        LayoutCase("root-null", "null"),
        LayoutCase("root-string", '"layout"'),
        # --- non-finite and huge numbers
        LayoutCase("nan-x0", _raw("tracks.0.x0", "NaN")),
        LayoutCase("infinity-step", _raw("depth.step", "Infinity")),
        LayoutCase("minus-infinity-tie", _raw("depth.ties.0.1", "-Infinity")),
        LayoutCase("overflow-to-inf", _raw("tracks.0.x1", "1e400")),
        LayoutCase("huge-float", _set("tracks.0.x1", 1e300)),
        LayoutCase("400-digit-integer", _raw("tracks.0.x0", "9" * 400)),
        LayoutCase("400-digit-integer-step", _raw("depth.step", "9" * 400)),
        LayoutCase("5000-digit-integer", _raw("tracks.0.x0", "9" * 5000)),
        LayoutCase("tiny-step", _set("depth.step", 1e-300)),
        LayoutCase("negative-step", _set("depth.step", -0.5)),
        # --- wrong types
        LayoutCase("version-string", _set("version", "1")),
        LayoutCase("version-2", _set("version", 2)),
        LayoutCase("version-true", _set("version", True)),
        LayoutCase("depth-list", _set("depth", [])),
        LayoutCase("depth-missing", _edit(lambda d: d.pop("depth"))),
        LayoutCase("unit-number", _set("depth.unit", 3)),
        LayoutCase("unit-unknown", _set("depth.unit", "furlong")),
        LayoutCase("ties-object", _set("depth.ties", {"0": 1200})),
        LayoutCase("tie-string", _set("depth.ties.0.0", "4")),
        LayoutCase("tie-bool", _set("depth.ties.0.0", True)),
        LayoutCase("tie-triple", _set("depth.ties.0", [4, 1200, 1])),
        LayoutCase("tie-null", _set("depth.ties.1", None)),
        LayoutCase("one-tie", _set("depth.ties", [[4, 1200]])),
        LayoutCase("tracks-object", _set("tracks", {"0": {}})),
        LayoutCase("track-string", _set("tracks.0", "GR 0-150")),
        LayoutCase("x0-string", _set("tracks.0.x0", "2")),
        LayoutCase("x1-missing", _edit(lambda d: d["tracks"][0].pop("x1"))),
        LayoutCase("curves-string", _set("tracks.0.curves", "GR")),
        LayoutCase("curve-list", _set("tracks.0.curves.0", [])),
        LayoutCase("mnemonic-number", _set("tracks.0.curves.0.mnemonic", 7)),
        LayoutCase("mnemonic-empty", _set("tracks.0.curves.0.mnemonic", "  ")),
        LayoutCase("mnemonic-with-space", _set("tracks.0.curves.0.mnemonic", "G R")),
        LayoutCase("mnemonic-with-newline", _set("tracks.0.curves.0.mnemonic", "GR\n~A")),
        LayoutCase("style-object", _set("tracks.0.curves.0.style", {})),
        LayoutCase("style-unknown", _set("tracks.0.curves.0.style", "wavy")),
        LayoutCase("weight-list", _set("tracks.0.curves.0.weight", [])),
        LayoutCase("backup-list", _set("tracks.0.curves.1.backup", [16, 26])),
        LayoutCase("scale-unknown", _set("tracks.0.scale", "sqrt")),
        LayoutCase("well-list", _set("well", ["SMITH"])),
        LayoutCase("well-name-number", _set("well.name", 12)),
        # --- inconsistent values
        LayoutCase("ties-unsorted", _set("depth.ties", [[60.0, 1210.0], [4.0, 1200.0]])),
        LayoutCase("ties-same-row", _set("depth.ties", [[4.0, 1200.0], [4.0, 1210.0]])),
        LayoutCase("ties-same-depth", _set("depth.ties", [[4.0, 1200.0], [60.0, 1200.0]])),
        LayoutCase("ties-depth-zigzag", _set("depth.ties", [[4.0, 1200.0], [30.0, 1210.0], [60.0, 1205.0]])),
        LayoutCase("too-many-ties", _set("depth.ties", [[i, i] for i in range(100_001)])),
        LayoutCase("zero-width-track", _set("tracks.0.x1", 2)),
        LayoutCase("reversed-track", _set("tracks.0.x1", 1)),
        LayoutCase("empty-scale", _set("tracks.0.curves.0.right", 0)),
        LayoutCase("log-scale-zero", _set("tracks.1.curves.0.left", 0)),
        LayoutCase("log-scale-negative", _set("tracks.1.curves.0.right", -20)),
        LayoutCase("duplicate-mnemonic", _set("tracks.1.curves.0.mnemonic", "GR")),
        LayoutCase("duplicate-mnemonic-case", _set("tracks.1.curves.0.mnemonic", "gr")),
        LayoutCase("mnemonic-dept", _set("tracks.0.curves.0.mnemonic", "DEPT")),
        LayoutCase("two-solid-curves-one-track", _set("tracks.0.curves.1.style", "solid")),
        LayoutCase("huge-mnemonic", _set("tracks.0.curves.0.mnemonic", "G" * 1_000_000)),
        # --- nesting and size
        LayoutCase("deeply-nested", '{"version": 1, "depth": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        LayoutCase("deep-unknown-key", text[:-1] + ', "notes": ' + "[" * 750 + "]" * 750 + "}"),
        LayoutCase("huge-well-name", _set("well.name", "A" * 2_000_000)),
        # --- characters that would break the LAS file written from this layout
        LayoutCase("mnemonic-nul", _set("tracks.0.curves.0.mnemonic", "G\u0000R")),
        LayoutCase("unit-newline", _set("tracks.0.curves.0.unit", "GAPI\n~A")),
        LayoutCase("well-name-newline", _set("well.name", "SMITH\r\n~A 1 2 3")),
        LayoutCase("mnemonic-lone-surrogate", text.replace('"GR"', '"\\ud800"')),
    ]


# =========================================================================== project files
@dataclass(frozen=True)
class ProjectCase:
    name: str
    data: bytes
    bug: str | None = None
    error: type[VeerDeskError] = ProjectError


def _zip_bytes(members: dict[str, bytes], compression: int = 8) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def _zip_members(data: bytes) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _patch_zip_headers(data: bytes, field_offsets: dict[bytes, int], change: Callable[[int], int]) -> bytes:
    """Rewrite one 16-bit field in every local and central zip header (e.g. the compression method)."""
    patched = bytearray(data)
    for signature, offset in field_offsets.items():
        at = patched.find(signature)
        while at >= 0:
            value = struct.unpack("<H", patched[at + offset:at + offset + 2])[0]
            patched[at + offset:at + offset + 2] = struct.pack("<H", change(value))
            at = patched.find(signature, at + 4)
    return bytes(patched)


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def project_cases(good: bytes) -> list[ProjectCase]:
    """Damaged variants of ``good``, a valid project file written by ``veerdesk.core.project``."""
    members = _zip_members(good)
    meta = json.loads(members["project.json"])

    def with_meta(**changes) -> bytes:
        return _zip_bytes({**members, "project.json": json.dumps({**meta, **changes}).encode()})

    def with_member(name: str, data: bytes) -> bytes:
        return _zip_bytes({**members, name: data})

    # project.json deflated, its first deflate block header set to the invalid block type 3: zlib must fail.
    damaged_json = bytearray(_zip_bytes(members))
    header = damaged_json.find(b"PK\x03\x04")
    name_length, extra_length = struct.unpack("<HH", damaged_json[header + 26:header + 30])
    damaged_json[header + 30 + name_length + extra_length] = 0b111
    return [
        ProjectCase("zero-byte", b""),
        ProjectCase("text", b"this is not a project\n"),
        ProjectCase("truncated", good[: len(good) // 2]),
        ProjectCase("zip-without-project-json", _zip_bytes({"readme.txt": b"hello"})),
        ProjectCase("other-format", with_meta(format="something-else")),
        ProjectCase("newer-version", with_meta(version=99)),
        ProjectCase("json-not-utf8", with_member("project.json", b"\xff\xfe{}")),
        ProjectCase("json-invalid", with_member("project.json", b"{")),
        ProjectCase("json-list", with_member("project.json", b"[]")),
        ProjectCase("layout-invalid", with_meta(layout={"version": 1})),
        ProjectCase("layout-list", with_meta(layout=[])),
        ProjectCase("curves-without-traces", _zip_bytes({"project.json": members["project.json"]})),
        ProjectCase("traces-text", with_member("traces.npz", b"hello")),
        ProjectCase("traces-object-array", with_member("traces.npz", _npz(c0_depth=np.array([None], object)))),
        ProjectCase("traces-wrong-lengths", with_member("traces.npz", _npz(
            c0_depth=np.zeros(3), c0_value=np.zeros(4), c0_confidence=np.zeros(3), c0_reviewed=np.zeros(3))),
        ),
        ProjectCase("masks-not-png", with_member("class_map.png", b"xx") if "class_map.png" in members else
                    _zip_bytes({**members, "class_map.png": b"xx", "confidence.png": b"yy"})),
        ProjectCase("damaged-deflate-stream", bytes(damaged_json)),
        ProjectCase("unknown-compression-method",
                    _patch_zip_headers(good, {b"PK\x03\x04": 8, b"PK\x01\x02": 10}, lambda _: 99)),
        ProjectCase("encrypted-member",
                    _patch_zip_headers(good, {b"PK\x03\x04": 6, b"PK\x01\x02": 8}, lambda v: v | 1)),
        ProjectCase("json-nested-too-deep",
                    with_member("project.json", b'{"format": "veerdesk-project", "x": ' + b"[" * 5000 + b"]" * 5000
                                + b"}")),
        ProjectCase("curves-not-a-list", with_meta(curves=5)),
        ProjectCase("image-path-with-nul", with_meta(image_relative="scan\u0000.tif")),
        ProjectCase("image-path-too-long", with_meta(image_relative="a" * 100_000)),
        ProjectCase("traces-empty", with_member("traces.npz", b"")),
        ProjectCase("traces-truncated-zip", with_member("traces.npz", _npz(c0_depth=np.zeros(3))[:60])),
        ProjectCase("mask-member-empty", _zip_bytes({**members, "class_map.png": b"", "confidence.png": b""})),
        ProjectCase("layout-400-digit-integer",
                    with_member("project.json", json.dumps(meta).replace('"x0": 2', '"x0": ' + "9" * 400).encode())),
    ]


# =========================================================================== weights
@dataclass(frozen=True)
class WeightsCase:
    """A change to a valid weights pair: new weights bytes and/or a card edit; hash re-signed if asked."""

    name: str
    weights: Callable[[bytes], bytes] | None = None
    card: Callable[[dict], object] | None = None
    resign: bool = True
    bug: str | None = None
    error: type[VeerDeskError] = ModelError


def _config(**changes) -> Callable[[dict], dict]:
    def change(card: dict) -> dict:
        card["config"].update(changes)
        return card

    return change


def _non_finite_weights(data: bytes) -> bytes:
    """The same safetensors file with every floating-point value replaced by NaN."""
    from safetensors.numpy import load, save

    tensors = load(data)
    return save({k: np.full_like(v, np.nan) if v.dtype.kind == "f" else v for k, v in tensors.items()})


def weights_cases() -> list[WeightsCase]:
    return [
        WeightsCase("flipped-byte", weights=lambda w: w[:100] + bytes([w[100] ^ 1]) + w[101:], resign=False),
        WeightsCase("truncated", weights=lambda w: w[: len(w) // 2]),
        WeightsCase("zero-byte", weights=lambda w: b""),
        WeightsCase("header-length-huge", weights=lambda w: struct.pack("<Q", 2**62) + w[8:]),
        WeightsCase("header-not-json", weights=lambda w: struct.pack("<Q", 10) + b"{not json}" + w[8:]),
        WeightsCase("pickle-instead-of-safetensors", weights=lambda w: b"\x80\x04\x95" + b"\0" * 64),
        WeightsCase("card-not-json", card=lambda c: "{"),
        WeightsCase("card-list", card=lambda c: "[]"),
        WeightsCase("card-without-hash", card=lambda c: {k: v for k, v in c.items() if k != "sha256"},
                    resign=False),
        WeightsCase("card-hash-wrong-type", card=lambda c: {**c, "sha256": 5}, resign=False),
        WeightsCase("card-config-list", card=lambda c: {**c, "config": []}),
        WeightsCase("card-unknown-config-key", card=_config(dropout=0.5)),
        WeightsCase("card-other-architecture", card=_config(architecture="resnet50")),
        WeightsCase("card-other-classes", card=_config(classes=4, class_names=["a", "b", "c", "d"])),
        WeightsCase("card-wider-network", card=_config(channels=[8, 24])),
        WeightsCase("all-values-nan", weights=_non_finite_weights),
        WeightsCase("card-nested-too-deep", card=lambda c: "[" * 100_000),
        WeightsCase("card-channels-int", card=_config(channels=5)),
        WeightsCase("card-channels-negative", card=_config(channels=[-8, 16])),
        WeightsCase("card-channels-huge", card=_config(channels=[8, 2**40])),
        WeightsCase("card-attention-heads-zero", card=_config(attention_layers=1, attention_heads=0)),
        WeightsCase("card-stem-stride-float", card=_config(stem_stride=2.0)),
        WeightsCase("card-class-names-null", card=_config(class_names=None)),
    ]


def all_seed_bytes() -> dict[str, list[bytes]]:
    """Seeds for the fuzzers: every image and layout case (project seeds need the project writer)."""
    seeds = {
        "image": [c.data for c in image_cases()],
        "layout": [c.text if isinstance(c.text, bytes) else c.text.encode("utf-8") for c in layout_cases()],
    }
    # Keep seeds small: the fuzzer mutates them many thousand times.
    return {k: [s for s in v if len(s) <= 200_000] for k, v in seeds.items()}
