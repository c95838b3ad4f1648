import numpy as np
import pytest
import tifffile
from PIL import Image

from veerdesk.cli import main
from veerdesk.core.errors import ImageError
from veerdesk.core.image import load_page, probe_image, to_gray_u8


def bilevel_page(width=1600, height=4000, seed=0):
    rng = np.random.default_rng(seed)
    page = np.full((height, width), 255, np.uint8)
    page[:, ::97] = 0
    page[::53, :] = 0
    x = (width / 2 + 0.4 * width * np.sin(np.arange(height) / 200)).astype(int)
    page[np.arange(height), x] = 0
    page[rng.random((height, width)) < 0.001] = 0
    return page


@pytest.fixture
def g4_tiff(tmp_path):
    page = bilevel_page()
    path = tmp_path / "scan.tif"
    Image.fromarray(page).convert("1").save(path, compression="group4", dpi=(200, 200))
    return path, page


def test_g4_tiff_decodes_exactly(g4_tiff):
    path, page = g4_tiff
    info = probe_image(path)
    assert (info.width, info.height, info.mode, info.bits) == (1600, 4000, "1", 1)
    assert info.compression == "group4"
    assert info.dpi == pytest.approx(200)
    loaded = load_page(path)
    assert loaded.pixels.dtype == np.uint8
    assert np.array_equal(loaded.pixels, page)


@pytest.mark.parametrize("compression", ["tiff_lzw", "packbits", "tiff_deflate", "group3"])
def test_other_bilevel_compressions(tmp_path, compression):
    page = bilevel_page(300, 500)
    path = tmp_path / "scan.tif"
    Image.fromarray(page).convert("1").save(path, compression=compression)
    assert np.array_equal(load_page(path).pixels, page)


def test_rgb_jpeg_and_png_and_bmp(tmp_path):
    rgb = np.zeros((120, 200, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[40:80, :, :] = 255
    for name in ("a.jpg", "a.png", "a.bmp"):
        Image.fromarray(rgb).save(tmp_path / name)
        loaded = load_page(tmp_path / name)
        assert loaded.pixels.shape == (120, 200)
        assert abs(int(loaded.pixels[60, 100]) - 255) <= 3
        assert abs(int(loaded.pixels[10, 10]) - round(0.299 * 200)) <= 3
    assert probe_image(tmp_path / "a.jpg").format == "JPEG"


def test_palette_rgba_cmyk_16bit_float(tmp_path):
    gray = np.tile(np.arange(0, 250, 10, dtype=np.uint8), (10, 1))
    Image.fromarray(gray).convert("P").save(tmp_path / "p.png")
    assert np.abs(load_page(tmp_path / "p.png").pixels.astype(int) - gray).max() <= 2
    rgba = np.zeros((10, 25, 4), np.uint8)
    rgba[..., 3] = 0  # fully transparent -> paper
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    assert (load_page(tmp_path / "t.png").pixels == 255).all()
    Image.fromarray(gray).convert("CMYK").save(tmp_path / "c.tif")
    assert load_page(tmp_path / "c.tif").pixels.shape == gray.shape
    tifffile.imwrite(tmp_path / "g16.tif", gray.astype(np.uint16) * 257)
    assert np.abs(load_page(tmp_path / "g16.tif").pixels.astype(int) - gray).max() <= 1
    tifffile.imwrite(tmp_path / "f.tif", gray.astype(np.float32) / 255)
    assert np.abs(load_page(tmp_path / "f.tif").pixels.astype(int) - gray).max() <= 1


def test_tiled_and_multipage_tiff(tmp_path):
    pages = [bilevel_page(256, 384, seed=s) for s in range(3)]
    tifffile.imwrite(tmp_path / "tiled.tif", pages[0], tile=(128, 128), compression="zlib")
    assert np.array_equal(load_page(tmp_path / "tiled.tif").pixels, pages[0])
    path = tmp_path / "multi.tif"
    imgs = [Image.fromarray(p).convert("1") for p in pages]
    imgs[0].save(path, save_all=True, append_images=imgs[1:], compression="group4")
    assert probe_image(path).page_count == 3
    assert np.array_equal(load_page(path, page=2).pixels, pages[2])
    with pytest.raises(ImageError, match="3 page"):
        load_page(path, page=5)


def test_pdf_page(tmp_path):
    page = bilevel_page(400, 600)
    path = tmp_path / "log.pdf"
    Image.fromarray(page).convert("L").save(path, resolution=100)
    info = probe_image(path, pdf_dpi=100)
    assert info.format == "PDF" and info.page_count == 1
    assert (info.width, info.height) == (400, 600)
    loaded = load_page(path, pdf_dpi=100)
    assert loaded.pixels.shape == (600, 400)
    # Rendering anti-aliases a little; the ink must still be where it was.
    assert np.mean(np.abs(loaded.pixels.astype(int) - page)) < 20


def test_truncated_empty_wrong_and_oversized(tmp_path, g4_tiff):
    good = tmp_path / "good.png"
    Image.fromarray(bilevel_page(300, 300)).save(good)
    trunc = tmp_path / "trunc.png"
    trunc.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ImageError, match="truncated|damaged|cannot"):
        load_page(trunc)
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        load_page(empty)
    text = tmp_path / "notes.tif"
    text.write_text("this is not a scan")
    with pytest.raises(ImageError, match="not an image"):
        probe_image(text)
    path, _ = g4_tiff
    with pytest.raises(ImageError, match="gigapixels"):
        load_page(path, max_pixels=1_000_000)
    # Cut short before its page directory (written after the pixels), a TIFF lists no page at all.
    cut = tmp_path / "cut.tif"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ImageError, match="no readable page: the file may be truncated"):
        load_page(cut)


def test_oversized_header_refused_before_decoding(tmp_path):
    # A 1-bit TIFF that claims 200,000 x 200,000 px: refused from the header alone.
    path = tmp_path / "bomb.tif"
    Image.new("1", (100, 100)).save(path, compression="group4")
    raw = bytearray(path.read_bytes())
    # Patch ImageWidth/ImageLength (tags 256/257, SHORT or LONG) in the first IFD.
    import struct
    ifd = struct.unpack_from("<I", raw, 4)[0]
    count = struct.unpack_from("<H", raw, ifd)[0]
    for i in range(count):
        off = ifd + 2 + 12 * i
        tag, typ = struct.unpack_from("<HH", raw, off)
        if tag in (256, 257):
            struct.pack_into("<HHII", raw, off, tag, 4, 1, 200_000)
    path.write_bytes(bytes(raw))
    info = probe_image(path)
    assert info.width == 200_000
    with pytest.raises(ImageError, match="over the limit"):
        load_page(path)


def test_to_gray_u8_variants():
    assert to_gray_u8(np.array([[True, False]])).tolist() == [[255, 0]]
    assert to_gray_u8(np.array([[0.0, 1.0]], np.float32)).tolist() == [[0, 255]]
    assert to_gray_u8(np.array([[0, 4095]], np.uint16)).tolist() == [[0, 255]]


def test_cli_info(tmp_path, g4_tiff, capsys):
    path, _ = g4_tiff
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1600 x 4000" in out and "group4" in out and "dpi:         200" in out
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    code = main(["info", str(empty)])
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith("error:") and err.count("\n") == 1 and "Traceback" not in err
