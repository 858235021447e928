//! Staff photos as the API accepts them: what an upload may be, and its re-encoding. A pure
//! function of the bytes ([`process`]); the HTTP limits, the worker threads and the storage
//! are the handlers' and the store's.
//!
//! Why every accepted image is decoded and encoded again: an uploaded file carries more than
//! its pixels (EXIF with the place and the camera, comments, ICC text, trailing data, even a
//! polyglot that is also HTML). Only the decoded pixels go into the new file, so none of that
//! can reach a reader of the directory.
//!
//! The order of the checks keeps a hostile file cheap: the type from the first bytes (magic
//! numbers, whatever `Content-Type` said), then the dimensions from the header alone, refused
//! above [`MAX_SIDE`] before any pixel is decoded (a 40 kB PNG can claim 100,000 × 100,000
//! pixels, 40 GB decoded), then the decode itself under the decoder's own [`Limits`].

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder as _, ImageFormat, ImageReader, Limits};

mod mapped;
mod scaled;
use mapped::Fit;

/// The largest upload accepted, in bytes (5 MB).
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;
/// The largest width and height accepted, in pixels, as decoded.
pub const MAX_SIDE: u32 = 4096;
/// The long side of the stored photo, in pixels (smaller photos keep their size).
pub const PHOTO_SIDE: u32 = 512;
/// The long side of the stored thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 96;
/// The media type of what is stored: JPEG, which every browser shows and which carries
/// nothing but the pixels as the encoder writes it (a JFIF header, no EXIF, no ICC profile).
pub const STORED_TYPE: &str = "image/jpeg";
/// JPEG quality of the stored images.
const QUALITY: u8 = 85;
/// The most the decoder may allocate: a 4096 × 4096 image of four 16-bit channels.
const MAX_ALLOC: u64 = (MAX_SIDE as u64) * (MAX_SIDE as u64) * 8;

/// Why an upload was refused. Each variant's doc says its status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoRejection {
    /// 415: not a JPEG, PNG or WebP image; what it looked like instead.
    #[error("not a JPEG, PNG or WebP image: {0}")]
    UnsupportedType(String),
    /// 422: more pixels than accepted, as the header declares them (nothing was decoded).
    #[error("{width} × {height} pixels is over {MAX_SIDE} × {MAX_SIDE}")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// 422: the file says it is one of the accepted types but cannot be decoded (truncated,
    /// corrupt, or over the decoder's limits).
    #[error("the image cannot be decoded: {0}")]
    Corrupt(String),
}

impl PhotoRejection {
    /// The HTTP status: 415 for a type not accepted, 422 for an accepted type that cannot be
    /// used.
    pub fn status(&self) -> u16 {
        match self {
            Self::UnsupportedType(_) => 415,
            Self::TooManyPixels { .. } | Self::Corrupt(_) => 422,
        }
    }

    /// The problem's stable code, which clients map to their own words.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedType(_) => "unsupported_photo_type",
            Self::TooManyPixels { .. } => "photo_too_many_pixels",
            Self::Corrupt(_) => "corrupt_photo",
        }
    }

    /// The problem's title.
    pub fn title(&self) -> &'static str {
        match self {
            Self::UnsupportedType(_) => "Unsupported photo type",
            Self::TooManyPixels { .. } => "Photo has too many pixels",
            Self::Corrupt(_) => "Unreadable photo",
        }
    }

    /// The problem's detail.
    pub fn detail(&self) -> String {
        match self {
            Self::UnsupportedType(_) => format!("{self}; send a JPEG, PNG or WebP image"),
            Self::TooManyPixels { .. } => format!("the photo is {self}"),
            Self::Corrupt(_) => self.to_string(),
        }
    }
}

/// A photo as stored: re-encoded, at most [`PHOTO_SIDE`] on its long side, and its thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedPhoto {
    /// The photo ([`STORED_TYPE`]).
    pub image: Vec<u8>,
    /// Its width and height.
    pub size: (u32, u32),
    /// The thumbnail ([`STORED_TYPE`]).
    pub thumb: Vec<u8>,
    /// Its width and height.
    pub thumb_size: (u32, u32),
}

/// The accepted type of `bytes`, told by their first bytes alone; any other is refused with a
/// word on what it seems to be.
pub fn sniff(bytes: &[u8]) -> Result<ImageFormat, PhotoRejection> {
    if bytes.is_empty() {
        return Err(PhotoRejection::UnsupportedType("the body is empty".into()));
    }
    match image::guess_format(bytes) {
        Ok(format @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => Ok(format),
        Ok(other) => Err(PhotoRejection::UnsupportedType(format!(
            "it is {}",
            other
                .extensions_str()
                .first()
                .map_or("another image type", |e| match *e {
                    "gif" => "a GIF",
                    "tiff" | "tif" => "a TIFF",
                    "bmp" => "a BMP",
                    "ico" => "an icon",
                    _ => "another image type",
                })
        ))),
        Err(_) => {
            let start = bytes.iter().skip_while(|b| b.is_ascii_whitespace());
            let text: Vec<u8> = start.take(5).map(u8::to_ascii_lowercase).collect();
            let why = if text.starts_with(b"<") {
                "it is text (SVG, HTML or XML)"
            } else {
                "its type is not recognised"
            };
            Err(PhotoRejection::UnsupportedType(why.into()))
        }
    }
}

/// A JPEG whose data stops before its end-of-image marker: the decoder would fill the rest
/// with grey and accept it, so the check is made here. The marker must follow the last
/// start-of-scan (`FF DA`; in entropy-coded data an `FF` is always followed by `00` or a
/// restart marker, so neither marker can appear there by chance).
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let last_end = bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((last_scan, last_end), (Some(scan), Some(end)) if end > scan)
}

fn corrupt(e: impl std::fmt::Display) -> PhotoRejection {
    let mut why = e.to_string();
    if why.len() > 200 {
        let cut = (0..=200)
            .rev()
            .find(|i| why.is_char_boundary(*i))
            .unwrap_or(0);
        why.truncate(cut);
    }
    PhotoRejection::Corrupt(why)
}

/// The decoder's limits: the strict width and height, and the allocation budget.
fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

/// Decodes `bytes` (after [`sniff`]) as `format` and fits the pixels within `side` × `side`:
/// the header's dimensions first, then the pixels: a JPEG's at a reduced scale ([`scaled`]),
/// any other under [`limits`] into memory of their own ([`mapped`]); then the fitted image is
/// turned as the file's orientation says (a phone's portrait shot is stored on its side and
/// tagged), since the tag itself is not kept.
fn decode(bytes: &[u8], format: ImageFormat, side: u32) -> Result<DynamicImage, PhotoRejection> {
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(corrupt)?;
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(PhotoRejection::TooManyPixels { width, height });
    }
    if width == 0 || height == 0 {
        return Err(PhotoRejection::Corrupt("the image has no pixels".into()));
    }
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(PhotoRejection::Corrupt(
            "the JPEG data ends before its end-of-image marker (a truncated file)".into(),
        ));
    }
    if format == ImageFormat::Jpeg {
        let max = usize::try_from(MAX_ALLOC).unwrap_or(usize::MAX);
        let scaled = scaled::decode_jpeg(bytes, (width, height), side, max).map_err(corrupt)?;
        if let Some((mut image, orientation)) = scaled {
            image.apply_orientation(orientation);
            return Ok(image);
        }
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    // `into_decoder` sets the limits but, unlike `decode`, does not count the output buffer.
    limits().reserve(decoder.total_bytes()).map_err(corrupt)?;
    let orientation = decoder.orientation().map_err(corrupt)?;
    // Turning commutes with fitting into a square, so the small image is the one turned.
    let fit = Fit::within(width, height, side);
    let mut image = mapped::decode_fitted(decoder, fit).map_err(corrupt)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Transparent pixels laid on white (JPEG has no alpha), as 8-bit RGB.
fn flatten(image: DynamicImage) -> image::RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let (w, h) = rgba.dimensions();
    image::RgbImage::from_fn(w, h, |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| {
            let (c, a) = (u16::from(c), u16::from(a));
            ((c * a + 255 * (255 - a) + 127) / 255) as u8
        };
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

fn encode(image: &image::RgbImage) -> Result<Vec<u8>, PhotoRejection> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(image)
        .map_err(|e| PhotoRejection::Corrupt(format!("the image could not be re-encoded: {e}")))?;
    Ok(out)
}

/// Checks, decodes and re-encodes an upload: the photo and its thumbnail, as JPEG, with
/// nothing of the original file but its pixels. CPU-bound (tens of milliseconds for a large
/// photo): run it off the async runtime.
pub fn process(bytes: &[u8]) -> Result<ProcessedPhoto, PhotoRejection> {
    let format = sniff(bytes)?;
    let photo = flatten(decode(bytes, format, PHOTO_SIDE)?);
    let (w, h) = photo.dimensions();
    let thumb =
        flatten(Fit::within(w, h, THUMB_SIDE).apply(&DynamicImage::ImageRgb8(photo.clone())));
    Ok(ProcessedPhoto {
        image: encode(&photo)?,
        size: photo.dimensions(),
        thumb: encode(&thumb)?,
        thumb_size: thumb.dimensions(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbaImage::from_pixel(width, height, image::Rgba([10, 20, 30, 128]));
        let mut out = Vec::new();
        DynamicImage::ImageRgba8(image)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn types_are_told_by_their_first_bytes() {
        assert_eq!(sniff(&png(2, 2)), Ok(ImageFormat::Png));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Ok(ImageFormat::Jpeg));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Ok(ImageFormat::WebP));
        let refused = |b: &[u8]| match sniff(b) {
            Err(PhotoRejection::UnsupportedType(why)) => why,
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(b"GIF89a\x01\x00"), "it is a GIF");
        assert_eq!(
            refused(b"  <svg xmlns='x'/>"),
            "it is text (SVG, HTML or XML)"
        );
        assert_eq!(refused(b"hello"), "its type is not recognised");
        assert_eq!(refused(b""), "the body is empty");
    }

    #[test]
    fn a_large_photo_is_fitted_and_transparency_laid_on_white() {
        let stored = process(&png(1000, 500)).unwrap();
        assert_eq!(stored.size, (512, 256));
        assert_eq!(stored.thumb_size, (96, 48));
        let back = image::load_from_memory(&stored.image).unwrap().into_rgb8();
        let [r, g, b] = back.get_pixel(10, 10).0;
        // 50% alpha over white: about (132, 137, 142).
        assert!((125..=140).contains(&r) && (130..=145).contains(&g) && (135..=150).contains(&b));
        assert_eq!(&stored.image[..3], b"\xFF\xD8\xFF");
    }

    #[test]
    fn a_small_photo_keeps_its_size() {
        let stored = process(&png(40, 30)).unwrap();
        assert_eq!((stored.size, stored.thumb_size), ((40, 30), (40, 30)));
    }

    #[test]
    fn completeness_of_a_jpeg_is_its_end_marker_after_the_last_scan() {
        assert!(jpeg_is_complete(b"\xFF\xD8..\xFF\xDAdata\xFF\xD9"));
        assert!(!jpeg_is_complete(b"\xFF\xD8..\xFF\xDAdata"));
        // An embedded thumbnail's end marker, before the main scan, does not count.
        assert!(!jpeg_is_complete(b"\xFF\xD8\xFF\xDAt\xFF\xD9\xFF\xDAdata"));
    }
}
