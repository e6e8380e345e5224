//! Image types shared by every provider, magic-byte sniffing (the declared MIME type of a
//! Gemini image part is not trustworthy, §3.3), header-only dimension parsing, and the
//! per-model size/aspect-ratio tables of specs/gemini.md §2.3.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::GeminiError;

/// Output size class. The product API spells these `1k|2k|4k`; the wire wants `1K|2K|4K`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ImageQuality {
    #[default]
    #[serde(rename = "1k", alias = "1K")]
    K1,
    #[serde(rename = "2k", alias = "2K")]
    K2,
    #[serde(rename = "4k", alias = "4K")]
    K4,
}

impl ImageQuality {
    /// The `imageConfig.imageSize` value (uppercase K is required by the API).
    pub fn wire(self) -> &'static str {
        match self {
            Self::K1 => "1K",
            Self::K2 => "2K",
            Self::K4 => "4K",
        }
    }

    /// The product-API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::K1 => "1k",
            Self::K2 => "2k",
            Self::K4 => "4k",
        }
    }
}

impl fmt::Display for ImageQuality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImageQuality {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "1k" => Ok(Self::K1),
            "2k" => Ok(Self::K2),
            "4k" => Ok(Self::K4),
            other => Err(format!("expected 1k, 2k or 4k, got {other:?}")),
        }
    }
}

/// Image formats Gemini returns or accepts inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
}

impl ImageFormat {
    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }

    /// Identifies the format from magic bytes: `89 50 4E 47`, `FF D8`, `RIFF….WEBP`.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8]) {
            Some(Self::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }
}

/// Width and height read from the image header, without decoding pixels.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let be32 = |i: usize| Some(u32::from_be_bytes(bytes.get(i..i + 4)?.try_into().ok()?));
    let be16 = |i: usize| {
        Some(u32::from(u16::from_be_bytes(
            bytes.get(i..i + 2)?.try_into().ok()?,
        )))
    };
    let le = |i: usize, n: usize| {
        let b = bytes.get(i..i + n)?;
        Some(b.iter().rev().fold(0u32, |acc, x| acc << 8 | u32::from(*x)))
    };
    match ImageFormat::sniff(bytes)? {
        // IHDR is always the first chunk: width at 16, height at 20.
        ImageFormat::Png => Some((be32(16)?, be32(20)?)),
        ImageFormat::Jpeg => {
            let mut i = 2;
            while i + 9 < bytes.len() {
                if bytes[i] != 0xFF {
                    return None;
                }
                let marker = bytes[i + 1];
                if marker == 0xFF {
                    i += 1;
                    continue;
                }
                if matches!(marker, 0xD0..=0xD9 | 0x01) {
                    i += 2;
                    continue;
                }
                // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) carry the frame size.
                if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
                    return Some((be16(i + 7)?, be16(i + 5)?));
                }
                i += 2 + be16(i + 2)? as usize;
            }
            None
        }
        ImageFormat::Webp => match bytes.get(12..16)? {
            b"VP8 " => Some((le(26, 2)? & 0x3FFF, le(28, 2)? & 0x3FFF)),
            b"VP8L" => {
                let bits = le(21, 4)?;
                Some(((bits & 0x3FFF) + 1, (bits >> 14 & 0x3FFF) + 1))
            }
            b"VP8X" => Some((le(24, 3)? + 1, le(27, 3)? + 1)),
            _ => None,
        },
    }
}

/// An image sent inline (`inlineData`). The MIME type sent is the sniffed one when the bytes
/// are recognisable, because the API rejects a label that does not match the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct InlineImage {
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for InlineImage {
    // Image bytes are large and useless in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InlineImage")
            .field("mime_type", &self.mime_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl InlineImage {
    /// Labels the bytes by their magic number (`application/octet-stream` if unknown).
    pub fn new(bytes: Vec<u8>) -> Self {
        let mime_type = ImageFormat::sniff(&bytes)
            .map_or("application/octet-stream", ImageFormat::mime_type)
            .to_owned();
        Self { mime_type, bytes }
    }

    /// The MIME type to put on the wire.
    pub fn wire_mime_type(&self) -> &str {
        match ImageFormat::sniff(&self.bytes) {
            Some(format) => format.mime_type(),
            None => &self.mime_type,
        }
    }
}

/// One image to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRequest {
    pub prompt: String,
    /// Shown by the offline provider; the Gemini provider relies on the prompt mentioning it.
    pub product_name: Option<String>,
    pub reference_images: Vec<InlineImage>,
    /// `W:H`, e.g. `16:9`.
    pub aspect_ratio: String,
    pub image_quality: ImageQuality,
}

impl ImageRequest {
    /// A request without a product name or reference images.
    pub fn new(
        prompt: impl Into<String>,
        aspect_ratio: impl Into<String>,
        image_quality: ImageQuality,
    ) -> Self {
        Self {
            prompt: prompt.into(),
            product_name: None,
            reference_images: Vec::new(),
            aspect_ratio: aspect_ratio.into(),
            image_quality,
        }
    }
}

/// A generated image, with its format taken from the bytes, not the label.
#[derive(Clone, PartialEq, Eq)]
pub struct GeneratedImage {
    pub bytes: Vec<u8>,
    pub mime_type: &'static str,
    /// What the response claimed, when it differed from the bytes.
    pub declared_mime_type: Option<String>,
    pub width: u32,
    pub height: u32,
    /// Commentary text parts (non-thought), joined.
    pub text: Option<String>,
    /// `"gemini"` or `"offline"`: results are always labelled with where they came from.
    pub provider: &'static str,
    pub model: String,
    pub response_id: Option<String>,
}

impl fmt::Debug for GeneratedImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedImage")
            .field("mime_type", &self.mime_type)
            .field("declared_mime_type", &self.declared_mime_type)
            .field("size", &format_args!("{}x{}", self.width, self.height))
            .field("len", &self.bytes.len())
            .field("provider", &self.provider)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// Ratios all image models accept (§2.3).
pub const BASE_ASPECT_RATIOS: [&str; 10] = [
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
];
/// Extra ratios of the gemini-3.1-flash-image family.
pub const EXTREME_ASPECT_RATIOS: [&str; 4] = ["1:4", "4:1", "1:8", "8:1"];

/// Size classes a model accepts. Unknown ids get all three: model ids churn, and the server
/// stays the authority (it answers 400 if we are wrong).
pub fn supported_sizes(model: &str) -> &'static [ImageQuality] {
    if model.contains("2.5-flash-image") || model.contains("2.0-flash") {
        &[ImageQuality::K1]
    } else {
        &[ImageQuality::K1, ImageQuality::K2, ImageQuality::K4]
    }
}

/// Whether `model` accepts `ratio`.
pub fn supports_aspect_ratio(model: &str, ratio: &str) -> bool {
    BASE_ASPECT_RATIOS.contains(&ratio)
        || (model.contains("3.1-flash-image") && EXTREME_ASPECT_RATIOS.contains(&ratio))
}

/// Rejects, before any network call, what the model cannot do.
pub fn validate_for_model(model: &str, req: &ImageRequest) -> Result<(), GeminiError> {
    if !supported_sizes(model).contains(&req.image_quality) {
        return Err(GeminiError::UnsupportedImageSize {
            model: model.to_owned(),
            size: req.image_quality.wire().to_owned(),
        });
    }
    if !supports_aspect_ratio(model, &req.aspect_ratio) {
        return Err(GeminiError::UnsupportedAspectRatio {
            model: model.to_owned(),
            ratio: req.aspect_ratio.clone(),
        });
    }
    Ok(())
}

/// `"16:9"` → `(16, 9)`.
pub fn parse_aspect_ratio(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.trim().split_once(':')?;
    let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
    (a > 0 && b > 0).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_and_measures_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&360u32.to_be_bytes());
        assert_eq!(ImageFormat::sniff(&png), Some(ImageFormat::Png));
        assert_eq!(dimensions(&png), Some((640, 360)));
        // Minimal JPEG: SOI, APP0 (len 4), SOF0 with height 20, width 30.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8, 0, 20, 0, 30, 1, 0, 0, 0,
        ];
        assert_eq!(dimensions(&jpeg), Some((30, 20)));
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X\0\0\0\0\0\0\0\0".to_vec();
        webp.extend_from_slice(&[99, 0, 0, 49, 0, 0]);
        assert_eq!(dimensions(&webp), Some((100, 50)));
        assert_eq!(ImageFormat::sniff(b"GIF89a"), None);
    }

    #[test]
    fn model_tables() {
        let mut req = ImageRequest {
            prompt: String::new(),
            product_name: None,
            reference_images: Vec::new(),
            aspect_ratio: "16:9".to_owned(),
            image_quality: ImageQuality::K4,
        };
        assert!(validate_for_model("gemini-3-pro-image-preview", &req).is_ok());
        assert!(matches!(
            validate_for_model("gemini-2.5-flash-image", &req),
            Err(GeminiError::UnsupportedImageSize { .. })
        ));
        req.aspect_ratio = "8:1".to_owned();
        assert!(validate_for_model("gemini-3.1-flash-image", &req).is_ok());
        assert!(validate_for_model("gemini-3-pro-image", &req).is_err());
        assert_eq!("2K".parse::<ImageQuality>(), Ok(ImageQuality::K2));
        assert_eq!(serde_json::to_string(&ImageQuality::K4).unwrap(), "\"4k\"");
        assert_eq!(
            serde_json::from_str::<ImageQuality>("\"2K\"").unwrap(),
            ImageQuality::K2
        );
    }
}
