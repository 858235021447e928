//! An upload's decoded pixels, held in memory mapped for that one decode and unmapped as soon
//! as the photo has been fitted, so its megabytes go back to the system at once. JPEGs are
//! decoded at a reduced scale instead ([`super::scaled`]); this is for PNG and WebP, and for
//! the rare JPEG that decoder leaves to `image`.
//!
//! Why not a `Vec`, as `image` would use: glibc's `malloc` serves a buffer of this size (18 MB
//! for a 3000 × 2000 image) with a fresh mapping the first time, but when that is freed it
//! raises its mmap threshold to the buffer's size (up to 32 MB), so every later decode's
//! buffer comes from an arena instead, and an arena keeps its freed pages resident. Fitting
//! reads the mapping and writes a new image of at most [`PHOTO_SIDE`](super::PHOTO_SIDE)
//! pixels a side, small enough for any allocator.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use image::imageops::{self, FilterType};
use image::{ColorType, DynamicImage, ImageBuffer, ImageDecoder, ImageError, Luma, LumaA};
use image::{Rgb, Rgba};
use memmap2::MmapMut;

/// How an image of a given size is brought within a square of `side` pixels, never enlarged:
/// an area average for large factors (fast, and without aliasing), Lanczos for small ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Already within the square: kept as it is.
    Keep,
    /// Averaged down to this width and height.
    Average(u32, u32),
    /// Resampled (Lanczos 3) to this width and height.
    Lanczos(u32, u32),
}

impl Fit {
    /// The fit of a `width` × `height` image within `side` × `side`, keeping its proportions
    /// (as `DynamicImage::thumbnail` rounds them, at least one pixel a side).
    pub fn within(width: u32, height: u32, side: u32) -> Fit {
        if width <= side && height <= side {
            return Fit::Keep;
        }
        let ratio = f64::from(side) / f64::from(width.max(height));
        let scaled = |d: u32| ((f64::from(d) * ratio).round() as u32).clamp(1, side);
        let (w, h) = (scaled(width), scaled(height));
        if width.max(height) >= side * 2 {
            Fit::Average(w, h)
        } else {
            Fit::Lanczos(w, h)
        }
    }

    /// The fit that brings a `from` image to exactly `to` (no larger on either side).
    pub fn between(from: (u32, u32), to: (u32, u32)) -> Fit {
        if from == to {
            Fit::Keep
        } else if from.0.max(from.1) >= to.0.max(to.1) * 2 {
            Fit::Average(to.0, to.1)
        } else {
            Fit::Lanczos(to.0, to.1)
        }
    }

    /// The size a `width` × `height` image has after this fit.
    pub fn size(self, width: u32, height: u32) -> (u32, u32) {
        match self {
            Fit::Keep => (width, height),
            Fit::Average(w, h) | Fit::Lanczos(w, h) => (w, h),
        }
    }

    /// `image` brought within the square this fit was planned for.
    pub fn apply(self, image: &DynamicImage) -> DynamicImage {
        match self {
            Fit::Keep => image.clone(),
            Fit::Average(w, h) => image.thumbnail_exact(w, h),
            Fit::Lanczos(w, h) => image.resize_exact(w, h, FilterType::Lanczos3),
        }
    }
}

/// Subpixels of type `T` in an anonymous private mapping of their own (zeroed by the kernel),
/// unmapped when dropped.
pub struct Mapped<T> {
    map: MmapMut,
    subpixel: PhantomData<T>,
}

impl<T: bytemuck::Pod> Mapped<T> {
    /// A zeroed mapping of `bytes` bytes, a whole number of `T`s.
    fn zeroed(bytes: usize) -> Result<Self, ImageError> {
        if bytes == 0 || !bytes.is_multiple_of(size_of::<T>()) {
            return Err(ImageError::IoError(std::io::Error::other(format!(
                "{bytes} bytes are not a whole number of {}-byte subpixels",
                size_of::<T>()
            ))));
        }
        Ok(Self {
            map: MmapMut::map_anon(bytes)?,
            subpixel: PhantomData,
        })
    }
}

impl<T: bytemuck::Pod> Deref for Mapped<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // A mapping is page-aligned and its length a multiple of `T`'s size (checked above).
        bytemuck::cast_slice(&self.map)
    }
}

impl<T: bytemuck::Pod> DerefMut for Mapped<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        bytemuck::cast_slice_mut(&mut self.map)
    }
}

/// Decodes `decoder`'s pixels into a mapping of their own and returns them fitted by `fit`
/// (planned for the decoder's dimensions), in the decoder's colour type. The caller has
/// already checked the dimensions and reserved [`ImageDecoder::total_bytes`] in its limits.
pub fn decode_fitted(decoder: impl ImageDecoder, fit: Fit) -> Result<DynamicImage, ImageError> {
    let (width, height) = decoder.dimensions();
    let bytes = usize::try_from(decoder.total_bytes())
        .map_err(|_| ImageError::IoError(std::io::Error::other("the image is too large")))?;
    // One arm per colour type, as `image` itself decodes them: each builds a buffer of that
    // pixel type over the mapping, and fits it into a `Vec` of the same type.
    macro_rules! fitted {
        ($pixel:ty, $variant:path) => {{
            let mut pixels = Mapped::<<$pixel as image::Pixel>::Subpixel>::zeroed(bytes)?;
            decoder.read_image(bytemuck::cast_slice_mut(&mut pixels))?;
            let image = ImageBuffer::<$pixel, _>::from_raw(width, height, pixels)
                .ok_or_else(|| ImageError::IoError(std::io::Error::other("short pixel data")))?;
            $variant(match fit {
                Fit::Keep => imageops::crop_imm(&image, 0, 0, width, height).to_image(),
                Fit::Average(w, h) => imageops::thumbnail(&image, w, h),
                Fit::Lanczos(w, h) => imageops::resize(&image, w, h, FilterType::Lanczos3),
            })
        }};
    }
    Ok(match decoder.color_type() {
        ColorType::L8 => fitted!(Luma<u8>, DynamicImage::ImageLuma8),
        ColorType::La8 => fitted!(LumaA<u8>, DynamicImage::ImageLumaA8),
        ColorType::Rgb8 => fitted!(Rgb<u8>, DynamicImage::ImageRgb8),
        ColorType::Rgba8 => fitted!(Rgba<u8>, DynamicImage::ImageRgba8),
        ColorType::L16 => fitted!(Luma<u16>, DynamicImage::ImageLuma16),
        ColorType::La16 => fitted!(LumaA<u16>, DynamicImage::ImageLumaA16),
        ColorType::Rgb16 => fitted!(Rgb<u16>, DynamicImage::ImageRgb16),
        ColorType::Rgba16 => fitted!(Rgba<u16>, DynamicImage::ImageRgba16),
        ColorType::Rgb32F => fitted!(Rgb<f32>, DynamicImage::ImageRgb32F),
        ColorType::Rgba32F => fitted!(Rgba<f32>, DynamicImage::ImageRgba32F),
        other => {
            return Err(ImageError::IoError(std::io::Error::other(format!(
                "the decoder's colour type {other:?} is not supported"
            ))));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn a_fit_keeps_proportions_and_never_enlarges() {
        assert_eq!(Fit::within(40, 30, 512), Fit::Keep);
        assert_eq!(Fit::within(512, 512, 512), Fit::Keep);
        assert_eq!(Fit::within(3000, 2000, 512), Fit::Average(512, 341));
        assert_eq!(Fit::within(2000, 3000, 512), Fit::Average(341, 512));
        assert_eq!(Fit::within(1000, 500, 512), Fit::Lanczos(512, 256));
        assert_eq!(Fit::within(4096, 1, 512), Fit::Average(512, 1));
    }

    /// Every colour type the three decoders produce, decoded through a mapping, gives the same
    /// pixels as `image`'s own decode fitted the same way.
    #[test]
    fn decoding_through_a_mapping_gives_the_pixels_of_image_s_own_decode() {
        let source = DynamicImage::ImageRgba16(ImageBuffer::from_fn(1100, 300, |x, y| {
            Rgba([
                (x * 59) as u16,
                (y * 211) as u16,
                ((x + y) * 97) as u16,
                40_000,
            ])
        }));
        let kinds = [
            source.to_luma8().into(),
            source.to_luma_alpha8().into(),
            source.to_rgb8().into(),
            source.to_rgba8().into(),
            source.to_luma16().into(),
            source.to_rgb16().into(),
            source.clone(),
        ];
        for kind in kinds {
            let image: DynamicImage = kind;
            let mut png = Vec::new();
            image
                .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
                .unwrap();
            for side in [512, 96, 2000] {
                let fit = Fit::within(1100, 300, side);
                let decoder = image::codecs::png::PngDecoder::new(Cursor::new(&png)).unwrap();
                let ours = decode_fitted(decoder, fit).unwrap();
                let theirs = fit.apply(&image::load_from_memory(&png).unwrap());
                assert_eq!(ours.color(), image.color(), "{side}");
                assert_eq!(
                    ours.as_bytes(),
                    theirs.as_bytes(),
                    "{:?} {side}",
                    image.color()
                );
            }
        }
    }
}
