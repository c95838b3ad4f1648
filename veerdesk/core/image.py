"""Open a scanned log page of any common format as an 8-bit grayscale array.

Decoder paths (chosen for what archives contain):
- TIFF (1-bit CCITT G3/G4, LZW, PackBits, Deflate, JPEG; strips or tiles; multipage), PNG, JPEG, BMP:
  Pillow, whose wheels bundle libtiff, so CCITT G4 decodes without extra codec packages.
- PDF: pypdfium2 renders one page at a chosen dpi.

Headers are read first and anything over the pixel budget is refused *before* decoding; nothing is ever
silently downscaled. Every decoder failure becomes an :class:`ImageError` with a one-line message.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from veerdesk.core.errors import ImageError

# The pixel budget: 1.5 gigapixels unless VEERDESK_MAX_PIXELS says otherwise.
DEFAULT_MAX_PIXELS = int(float(os.environ.get("VEERDESK_MAX_PIXELS", "1.5e9")))
DEFAULT_PDF_DPI = 200.0
IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".pdf")


@dataclass(frozen=True)
class ImageInfo:
    path: str
    format: str
    width: int
    height: int
    mode: str
    bits: int
    dpi: float | None
    page: int
    page_count: int
    compression: str | None = None

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def describe(self) -> str:
        dpi = f"{self.dpi:g}" if self.dpi else "unknown"
        lines = [
            f"file:        {self.path}",
            f"format:      {self.format}" + (f" ({self.compression})" if self.compression else ""),
            f"size:        {self.width} x {self.height} px ({self.pixels / 1e6:.1f} MP)",
            f"mode:        {self.mode} ({self.bits}-bit)",
            f"dpi:         {dpi}",
            f"page:        {self.page + 1} of {self.page_count}",
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class Page:
    """One decoded page: ``pixels`` is uint8 H×W, 0 = black ink, 255 = paper."""

    pixels: np.ndarray
    info: ImageInfo

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


# --------------------------------------------------------------------------- helpers
_MODE_BITS = {"1": 1, "L": 8, "P": 8, "LA": 8, "PA": 8, "RGB": 8, "RGBA": 8, "CMYK": 8, "YCbCr": 8,
              "LAB": 8, "HSV": 8, "I;16": 16, "I;16B": 16, "I;16L": 16, "I;16N": 16, "I": 32, "F": 32}


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ImageError(f"image not found: {path}")
    if path.is_dir():
        raise ImageError(f"{path} is a folder, not an image file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise ImageError(f"{path} is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise ImageError(f"cannot read {path}: permission denied")


def _is_pdf(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(5) == b"%PDF-"


def _check_budget(info: ImageInfo, max_pixels: int) -> None:
    if info.width <= 0 or info.height <= 0:
        raise ImageError(f"{info.path} reports an empty image size ({info.width} x {info.height})")
    if info.pixels > max_pixels:
        raise ImageError(
            f"{info.path} is {info.width} x {info.height} px ({info.pixels / 1e9:.2f} gigapixels), over the "
            f"limit of {max_pixels / 1e9:.2f} gigapixels; set VEERDESK_MAX_PIXELS higher if you have the memory"
        )


def _check_page(page: int, count: int, path: Path) -> None:
    if count == 0:
        # A TIFF cut short after its header lists no page at all; "page 1 does not exist" would mislead.
        raise ImageError(f"{path} holds no readable page: the file may be truncated or damaged")
    if not 0 <= page < count:
        raise ImageError(f"{path} has {count} page(s); page {page + 1} does not exist")


# --------------------------------------------------------------------------- Pillow path
def _pil():
    from PIL import Image, ImageFile

    # We enforce our own budget before decoding; Pillow's bomb check would refuse real archive scans.
    Image.MAX_IMAGE_PIXELS = None
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return Image


def _pil_dpi(img) -> float | None:
    dpi = img.info.get("dpi")
    if dpi is None and "resolution" in img.info:
        # TIFF with centimetre units: Pillow reports pixels per cm. A damaged tag is just "dpi unknown".
        try:
            dpi = tuple(float(r) * 2.54 for r in img.info["resolution"])
        except (TypeError, ValueError, OverflowError):
            return None
    if not dpi:
        return None
    try:
        value = float(dpi[0] if isinstance(dpi, tuple) else dpi)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return value if math.isfinite(value) and value > 1 else None


def _is_tiff(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _open_pil(path: Path):
    Image = _pil()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Image.open(path)
    except Image.UnidentifiedImageError as exc:
        if _is_tiff(path):
            return None  # a TIFF Pillow cannot represent (float64, odd sample formats): tifffile reads it
        raise ImageError(
            f"{path} is not an image VeerDesk can read (supported: TIFF, PNG, JPEG, BMP, PDF)"
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"cannot open {path}: {exc}") from exc


def _tifffile_info(path: Path, page: int):
    import logging

    import tifffile

    # tifffile logs every damaged tag; the user gets one ImageError line instead.
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)

    try:
        tif = tifffile.TiffFile(path)
    except Exception as exc:
        raise ImageError(f"{path} is not an image VeerDesk can read (a damaged TIFF)") from exc
    try:
        count = len(tif.pages)
        _check_page(page, count, path)
        tp = tif.pages[page]
        height, width = int(tp.imagelength), int(tp.imagewidth)
        if width <= 0 or height <= 0:
            raise ImageError(f"{path} reports an empty image size ({width} x {height})")
        info = ImageInfo(
            path=str(path), format="TIFF", width=width, height=height,
            mode=f"{tp.dtype}x{tp.samplesperpixel}" if tp.samplesperpixel > 1 else str(tp.dtype),
            bits=int(tp.bitspersample), dpi=None, page=page, page_count=count,
            compression=str(tp.compression.name).lower() if tp.compression else None,
        )
    except ImageError:
        tif.close()
        raise
    except Exception as exc:
        tif.close()
        raise ImageError(f"cannot read {path}: {_decoder_message(exc)}") from exc
    return tif, info


def _load_with_tifffile(path: Path, page: int, max_pixels: int) -> Page:
    tif, info = _tifffile_info(path, page)
    try:
        _check_budget(info, max_pixels)
        pixels = to_gray_u8(np.squeeze(tif.pages[page].asarray()))
        if pixels.shape != (info.height, info.width):
            raise ImageError(f"{path} has an unsupported TIFF sample layout {pixels.shape}")
    except ImageError:
        raise
    except MemoryError as exc:
        raise ImageError(f"not enough memory to decode {path}") from exc
    except Exception as exc:
        raise ImageError(f"cannot decode {path}: {_decoder_message(exc)}") from exc
    finally:
        tif.close()
    return Page(np.ascontiguousarray(pixels), info)


def _pil_info(img, path: Path, page: int) -> ImageInfo:
    try:
        # Counting pages walks every page header; a damaged later page raises all sorts of errors.
        count = int(getattr(img, "n_frames", 1) or 1)
    except Exception as exc:
        raise ImageError(f"{path} has a damaged page directory ({type(exc).__name__}); the file is corrupt") from exc
    _check_page(page, count, path)
    if page:
        try:
            img.seek(page)
        except Exception as exc:
            raise ImageError(f"cannot read page {page + 1} of {path}: {_decoder_message(exc)}") from exc
    compression = img.info.get("compression")
    return ImageInfo(
        path=str(path),
        format=str(img.format or "unknown"),
        width=int(img.size[0]),
        height=int(img.size[1]),
        mode=img.mode,
        bits=_MODE_BITS.get(img.mode, 8),
        dpi=_pil_dpi(img),
        page=page,
        page_count=count,
        compression=str(compression) if compression else None,
    )


def _pil_to_gray(img) -> np.ndarray:
    mode = img.mode
    if mode in ("1", "L"):
        return _copy_in_bands(img)
    if mode in ("LA", "PA", "RGBA") or (mode == "P" and "transparency" in img.info):
        # Transparent areas are paper.
        Image = _pil()
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("L"), dtype=np.uint8)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return to_gray_u8(np.asarray(img))
    if mode == "CMYK":
        return np.asarray(img.convert("RGB").convert("L"), dtype=np.uint8)
    return np.asarray(img.convert("L"), dtype=np.uint8)


def _copy_in_bands(img, band_rows: int = 4096) -> np.ndarray:
    """Copy a decoded 1-bit or 8-bit Pillow image into uint8 (0/255 for 1-bit) band by band.

    ``tobytes`` on a whole 600-megapixel page would hold two extra full copies at once; bands keep the
    peak at the decoded image plus the output array.
    """
    width, height = img.size
    out = np.empty((height, width), np.uint8)
    for top in range(0, height, band_rows):
        bottom = min(height, top + band_rows)
        band = img.crop((0, top, width, bottom))
        out[top:bottom] = np.frombuffer(band.tobytes("raw", "L"), np.uint8).reshape(bottom - top, width)
    return out


def to_gray_u8(array: np.ndarray) -> np.ndarray:
    """Convert an in-memory image (gray, RGB, RGBA, bool, 16-bit, float) to uint8 gray, paper = 255."""
    a = np.asarray(array)
    if a.ndim == 3:
        if a.shape[2] == 4:
            alpha = a[..., 3:4].astype(np.float32) / (65535.0 if a.dtype == np.uint16 else 255.0)
            rgb = a[..., :3].astype(np.float32)
            full = 65535.0 if a.dtype == np.uint16 else 255.0
            a = rgb * alpha + full * (1 - alpha)
            a = a.astype(array.dtype) if array.dtype != np.float32 else a
        if a.shape[2] >= 3:
            # ITU-R 601 luma, the same weights Pillow and OpenCV use.
            a = a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114
        else:
            a = a[..., 0]
    if a.dtype == np.bool_:
        return np.where(a, 255, 0).astype(np.uint8)
    if a.dtype == np.uint8:
        return a
    a = a.astype(np.float64, copy=False)
    finite = a[np.isfinite(a)]
    top = float(finite.max()) if finite.size else 0.0
    if array.dtype.kind == "f" and top <= 1.0:
        scale = 255.0
    elif top <= 255:
        scale = 1.0
    else:
        # 12-, 14- or 16-bit data: scale by the smallest power-of-two range that holds the data
        # (4095 -> 12-bit), so a faint page is not stretched to full contrast.
        scale = 255.0 / (2 ** math.ceil(math.log2(top + 1)) - 1)
    out = np.nan_to_num(a * scale, nan=255.0)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- PDF path
def _open_pdf(path: Path):
    try:
        import pypdfium2 as pdfium
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise ImageError("PDF support needs the pypdfium2 package") from exc
    try:
        return pdfium.PdfDocument(str(path))
    except Exception as exc:  # pdfium raises its own PdfiumError and OSError
        raise ImageError(f"cannot open PDF {path}: {exc}") from exc


def _pdf_info(doc, path: Path, page: int, dpi: float) -> ImageInfo:
    count = len(doc)
    _check_page(page, count, path)
    try:
        w_pt, h_pt = doc[page].get_size()
    except Exception as exc:
        raise ImageError(f"cannot read page {page + 1} of PDF {path}: {exc}") from exc
    return ImageInfo(
        path=str(path), format="PDF", width=int(round(w_pt / 72 * dpi)), height=int(round(h_pt / 72 * dpi)),
        mode="L", bits=8, dpi=float(dpi), page=page, page_count=count, compression=None,
    )


# --------------------------------------------------------------------------- public API
def probe_image(path: str | os.PathLike, page: int = 0, *, pdf_dpi: float = DEFAULT_PDF_DPI) -> ImageInfo:
    """Read only the header: size, mode, dpi, page count. Cheap even for gigapixel scans."""
    p = Path(path)
    _check_file(p)
    if _is_pdf(p):
        doc = _open_pdf(p)
        try:
            return _pdf_info(doc, p, page, pdf_dpi)
        finally:
            doc.close()
    img = _open_pil(p)
    if img is None:
        tif, info = _tifffile_info(p, page)
        tif.close()
        return info
    try:
        return _pil_info(img, p, page)
    finally:
        img.close()


def load_page(
    path: str | os.PathLike,
    page: int = 0,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    pdf_dpi: float = DEFAULT_PDF_DPI,
) -> Page:
    """Decode one page as uint8 grayscale, refusing anything over ``max_pixels`` before decoding."""
    p = Path(path)
    _check_file(p)
    if _is_pdf(p):
        return _load_pdf(p, page, max_pixels, pdf_dpi)
    img = _open_pil(p)
    if img is None:
        return _load_with_tifffile(p, page, max_pixels)
    try:
        info = _pil_info(img, p, page)
        _check_budget(info, max_pixels)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                img.load()
                pixels = _pil_to_gray(img)
        except MemoryError as exc:
            raise ImageError(f"not enough memory to decode {p} ({info.width} x {info.height} px)") from exc
        except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, ZeroDivisionError) as exc:
            raise ImageError(f"cannot decode {p}: {_decoder_message(exc)}") from exc
    finally:
        img.close()
    if pixels.shape != (info.height, info.width):
        raise ImageError(f"{p} decoded to an unexpected size {pixels.shape[::-1]}; the file may be corrupt")
    return Page(pixels, info)


def _decoder_message(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "truncated" in text.lower() or isinstance(exc, EOFError):
        return "the file is truncated or damaged"
    return text.splitlines()[0][:200]


def _load_pdf(path: Path, page: int, max_pixels: int, dpi: float) -> Page:
    doc = _open_pdf(path)
    try:
        info = _pdf_info(doc, path, page, dpi)
        _check_budget(info, max_pixels)
        try:
            bitmap = doc[page].render(scale=dpi / 72.0, grayscale=True)
            array = bitmap.to_numpy()
        except MemoryError as exc:
            raise ImageError(f"not enough memory to render page {page + 1} of {path}") from exc
        except Exception as exc:
            raise ImageError(f"cannot render page {page + 1} of PDF {path}: {exc}") from exc
    finally:
        doc.close()
    pixels = to_gray_u8(array)
    info = ImageInfo(**{**info.__dict__, "width": pixels.shape[1], "height": pixels.shape[0]})
    return Page(np.ascontiguousarray(pixels), info)
