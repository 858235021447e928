//! Image files made here for the photo tests: real JPEG, PNG and WebP images from the `image`
//! crate, and hostile ones built by hand (a PNG header claiming 100,000 × 100,000 pixels, a
//! JPEG carrying EXIF and a comment, truncated and corrupt files, a GIF, SVG and HTML).

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage};

/// A `width` × `height` picture (a gradient, so that it compresses like a photo, not like a
/// flat colour) encoded as `format`.
pub fn picture(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 255 / width.max(1)) as u8,
            (y * 255 / height.max(1)) as u8,
            ((x + y) % 256) as u8,
        ])
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_to(&mut Cursor::new(&mut out), format)
        .unwrap();
    out
}

/// A JPEG picture.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    picture(width, height, ImageFormat::Jpeg)
}

/// A PNG picture.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    picture(width, height, ImageFormat::Png)
}

/// A WebP picture (lossless: the encoder the `image` crate has).
pub fn webp(width: u32, height: u32) -> Vec<u8> {
    picture(width, height, ImageFormat::WebP)
}

/// CRC-32 (ISO-HDLC), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small real PNG whose header (IHDR, CRC fixed) claims `width` × `height`: a decompression
/// bomb's signature, 40 GB of pixels declared at 100,000 × 100,000.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(8, 8);
    // Signature (8), IHDR length (4) and type (4), then width and height.
    assert_eq!(&bytes[12..16], b"IHDR");
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// A PNG whose pixel data (IDAT) is garbage, its header intact.
pub fn png_with_corrupt_pixels() -> Vec<u8> {
    let mut bytes = png(64, 64);
    let idat = bytes.windows(4).position(|w| w == b"IDAT").unwrap() + 4;
    for b in &mut bytes[idat + 2..idat + 40] {
        *b ^= 0x5A;
    }
    bytes
}

/// What the EXIF block of [`jpeg_with_exif`] says: a camera and a place.
pub const EXIF_SECRET: &str = "SecretCam 9000 at GPS 53.2307N 0.5406W";
/// The comment of [`jpeg_with_exif`].
pub const COMMENT_SECRET: &str = "taken at the staff party";

/// A JPEG picture with an APP1 `Exif` segment (a TIFF block whose `Make` tag holds
/// [`EXIF_SECRET`]) and a `COM` comment segment inserted after its start marker, by hand.
pub fn jpeg_with_exif(width: u32, height: u32) -> Vec<u8> {
    let plain = jpeg(width, height);
    assert_eq!(&plain[..2], b"\xFF\xD8");
    let text = format!("{EXIF_SECRET}\0");
    // TIFF, little-endian: header, one IFD of one entry (Make, ASCII), then the string.
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x010Fu16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&(text.len() as u32).to_le_bytes());
    tiff.extend_from_slice(&26u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(text.as_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    for (marker, payload) in [(0xE1u8, app1), (0xFE, COMMENT_SECRET.as_bytes().to_vec())] {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&payload);
    }
    out.extend_from_slice(&plain[2..]);
    out
}

/// The markers of a JPEG's segments up to its first scan (`FF DA`), in order.
pub fn jpeg_markers(bytes: &[u8]) -> Vec<u8> {
    assert_eq!(&bytes[..2], b"\xFF\xD8", "not a JPEG");
    let mut markers = Vec::new();
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        let length = u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
        at += 2 + length;
    }
    markers
}

/// A one-pixel GIF.
pub const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

/// An SVG with a script in it.
pub const SVG: &str = r#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script><rect width="10" height="10"/></svg>"#;

/// An HTML page, as a file named `photo.png` would carry it.
pub const HTML: &str =
    "<!doctype html><html><body><script>alert(document.cookie)</script></body></html>";

/// The width and height of an encoded image.
pub fn dimensions(bytes: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory(bytes).unwrap();
    (image.width(), image.height())
}
