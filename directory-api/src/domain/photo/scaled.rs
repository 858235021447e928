//! JPEG photos decoded at a reduced scale: the decoder's inverse DCT makes each 8 × 8 block
//! 4 × 4, 2 × 2 or 1 × 1 pixels instead (1/2, 1/4, 1/8), the smallest scale that still covers
//! the size the photo is stored at, so a camera photo never exists in memory at full size.
//!
//! Why: `image`'s JPEG decoder has no such option. It builds the whole picture (18 MB of RGB
//! for a 3000 × 2000 camera photo, and its own planes besides), one decode per CPU, only to
//! keep 512 pixels a side of it. Decoded at 1/4, the same photo is 750 × 500 pixels (1.1 MB),
//! then fitted: an upload's own peak of memory is that, not 18 MB. (The API's memory under the
//! benchmark's soak, 140 MB, was not the uploads' doing: see `crate::threads`.)
//!
//! The JPEGs this module leaves to the general decoder (it answers `None`): 16-bit lossless
//! ones and CMYK ones (rare in photos, and `image` converts CMYK to RGB), and any feature this
//! decoder does not support. Those are decoded at full size, under the same limits.

#[cfg(test)]
use image::GenericImageView as _;
use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage};
use jpeg_decoder::{Decoder, Error, PixelFormat};

use super::mapped::Fit;

/// `bytes` (a complete JPEG, `width` × `height` by its header, already checked) decoded and
/// fitted within `side` × `side`, and its EXIF orientation; `None` for a JPEG this decoder
/// leaves to the general one. `max_bytes` bounds what the decoder may allocate for pixels.
pub fn decode_jpeg(
    bytes: &[u8],
    (width, height): (u32, u32),
    side: u32,
    max_bytes: usize,
) -> Result<Option<(DynamicImage, Orientation)>, String> {
    let mut decoder = Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(max_bytes);
    match decoder.read_info() {
        Ok(()) => {}
        Err(Error::Unsupported(_)) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    }
    let info = decoder
        .info()
        .ok_or_else(|| "the JPEG has no frame header".to_owned())?;
    if !matches!(info.pixel_format, PixelFormat::L8 | PixelFormat::RGB24) {
        return Ok(None);
    }
    if (u32::from(info.width), u32::from(info.height)) != (width, height) {
        return Err(format!(
            "the JPEG's headers disagree on its size ({width} × {height} or {} × {})",
            info.width, info.height
        ));
    }
    let target = Fit::within(width, height, side).size(width, height);
    // Both sides of the target are at most `side` (at most 4096), so they fit a `u16`.
    let requested = |d: u32| u16::try_from(d).unwrap_or(u16::MAX);
    let (w, h) = decoder
        .scale(requested(target.0), requested(target.1))
        .map_err(|e| e.to_string())?;
    let pixels = match decoder.decode() {
        Ok(pixels) => pixels,
        Err(Error::Unsupported(_)) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let (w, h) = (u32::from(w), u32::from(h));
    let short = || "the decoder returned fewer pixels than the image has".to_owned();
    let image = match info.pixel_format {
        PixelFormat::L8 => {
            DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, pixels).ok_or_else(short)?)
        }
        _ => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels).ok_or_else(short)?),
    };
    let orientation = decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    Ok(Some((
        Fit::between((w, h), target).apply(&image),
        orientation,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::jpeg::JpegEncoder;

    fn jpeg(image: &DynamicImage) -> Vec<u8> {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 95)
            .encode_image(image)
            .unwrap();
        out
    }

    /// A smooth picture (a camera photo's detail is above what the scales keep either way).
    fn picture(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([
                (x * 255 / width) as u8,
                (y * 255 / height) as u8,
                ((x + y) * 127 / (width + height)) as u8,
            ])
        })
    }

    /// Mean absolute difference per subpixel.
    fn distance(a: &DynamicImage, b: &DynamicImage) -> f64 {
        let (a, b) = (a.to_rgb8(), b.to_rgb8());
        assert_eq!(a.dimensions(), b.dimensions());
        let sum: u64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| u64::from(x.abs_diff(*y)))
            .sum();
        sum as f64 / a.as_raw().len() as f64
    }

    #[test]
    fn a_large_jpeg_comes_out_at_the_fitted_size_with_the_pixels_of_a_full_decode() {
        for (width, height, side) in [
            (3000, 2000, 512),
            (2000, 3000, 512),
            (1000, 500, 512),
            (3000, 2000, 96),
        ] {
            let file = jpeg(&DynamicImage::ImageRgb8(picture(width, height)));
            let (ours, orientation) = decode_jpeg(&file, (width, height), side, usize::MAX)
                .unwrap()
                .unwrap();
            let full = image::load_from_memory(&file).unwrap();
            let theirs = Fit::within(width, height, side).apply(&full);
            assert_eq!(
                ours.dimensions(),
                theirs.dimensions(),
                "{width}×{height} in {side}"
            );
            assert_eq!(orientation, Orientation::NoTransforms);
            let d = distance(&ours, &theirs);
            assert!(
                d < 2.0,
                "{width}×{height} in {side}: {d} from a full decode"
            );
        }
    }

    #[test]
    fn grey_stays_grey_and_a_small_jpeg_keeps_its_size() {
        let grey = DynamicImage::ImageLuma8(GrayImage::from_fn(40, 30, |x, _| {
            image::Luma([x as u8 * 6])
        }));
        let mut file = Vec::new();
        JpegEncoder::new(&mut file)
            .encode(grey.as_bytes(), 40, 30, image::ExtendedColorType::L8)
            .unwrap();
        let (ours, _) = decode_jpeg(&file, (40, 30), 512, usize::MAX)
            .unwrap()
            .unwrap();
        assert_eq!(ours.color(), image::ColorType::L8);
        assert_eq!(ours.dimensions(), (40, 30));
    }

    #[test]
    fn a_size_the_headers_disagree_on_and_a_buffer_over_the_limit_are_refused() {
        let file = jpeg(&DynamicImage::ImageRgb8(picture(64, 48)));
        assert!(
            decode_jpeg(&file, (64, 48), 512, usize::MAX)
                .unwrap()
                .is_some()
        );
        let why = decode_jpeg(&file, (65, 48), 512, usize::MAX).unwrap_err();
        assert!(why.contains("disagree"), "{why}");
        let limited = decode_jpeg(&file, (64, 48), 512, 100).unwrap_err();
        assert!(
            limited.contains("exceeds maximum allowed size"),
            "{limited}"
        );
    }
}
