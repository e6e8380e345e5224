//! The offline provider: the embedded default when no API key is configured. It renders a
//! real, deterministic PNG that visibly shows the product name and the prompt, and derives
//! a deterministic product analysis from the name and description. Every result says it is
//! offline (`GeneratedImage::provider == "offline"`, `ProductAnalysis::offline`).
//!
//! Resolution: 1K renders at its real long side (1024 px); 2K and 4K are reduced to 1536 and
//! 2048 px so local runs stay fast. The aspect ratio is always exact (rounded to whole pixels).

mod analysis;
mod canvas;
mod font;

use async_trait::async_trait;

use crate::error::GeminiError;
use crate::image::{
    BASE_ASPECT_RATIOS, EXTREME_ASPECT_RATIOS, GeneratedImage, ImageQuality, ImageRequest,
    parse_aspect_ratio,
};
use crate::provider::{AnalysisProvider, ImageProvider, ProductAnalysis, ProductInput};
use canvas::{Canvas, Rgb, line_height, text_width, wrap};

/// The model name reported on offline results.
pub const OFFLINE_MODEL: &str = "offline-renderer-v1";

/// Deterministic local image and analysis provider.
#[derive(Debug, Clone)]
pub struct OfflineProvider {
    _private: (),
}

impl Default for OfflineProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl OfflineProvider {
    /// Logs once that generation is offline, so nobody mistakes the output for Gemini's.
    pub fn new() -> Self {
        tracing::info!(
            provider = "offline",
            "no Gemini API key configured: images and analyses are rendered locally and labelled offline"
        );
        Self { _private: () }
    }

    /// `"offline"`. Inherent so calls on the concrete type are not ambiguous between the traits.
    pub fn name(&self) -> &'static str {
        "offline"
    }

    /// Always true; inherent for the same reason as [`Self::name`].
    pub fn is_offline(&self) -> bool {
        true
    }

    /// Long side in pixels per size class (see the module docs).
    pub fn long_side(quality: ImageQuality) -> u32 {
        match quality {
            ImageQuality::K1 => 1024,
            ImageQuality::K2 => 1536,
            ImageQuality::K4 => 2048,
        }
    }

    /// Renders the image for `req` (synchronous; the trait method wraps it).
    pub fn render(req: &ImageRequest) -> Result<GeneratedImage, GeminiError> {
        let ratio = req.aspect_ratio.trim();
        let known = BASE_ASPECT_RATIOS.contains(&ratio) || EXTREME_ASPECT_RATIOS.contains(&ratio);
        let (a, b) = parse_aspect_ratio(ratio).filter(|_| known).ok_or_else(|| {
            GeminiError::UnsupportedAspectRatio {
                model: OFFLINE_MODEL.to_owned(),
                ratio: req.aspect_ratio.clone(),
            }
        })?;
        let long = Self::long_side(req.image_quality);
        let (width, height) = if a >= b {
            (long, (long * b + a / 2) / a)
        } else {
            ((long * a + b / 2) / b, long)
        };
        let name = req.product_name.as_deref().unwrap_or("Product");
        let seed = fnv1a(
            format!(
                "{}\u{1f}{name}\u{1f}{ratio}\u{1f}{}",
                req.prompt, req.image_quality
            )
            .as_bytes(),
        );
        let canvas = draw(width, height, seed, name, req);
        let bytes = canvas.encode_png();
        Ok(GeneratedImage {
            bytes,
            mime_type: "image/png",
            declared_mime_type: None,
            width,
            height,
            text: Some(format!("Offline preview of {name}")),
            provider: "offline",
            model: OFFLINE_MODEL.to_owned(),
            response_id: Some(format!("offline-{seed:016x}")),
        })
    }
}

/// FNV-1a: stable across runs and platforms, unlike std's randomly keyed hasher.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn colour(seed: u64, shift: u32) -> Rgb {
    let v = seed.rotate_right(shift);
    // Keep channels mid-range so white text on the shaded panel stays readable.
    std::array::from_fn(|c| 48 + ((v >> (c * 8)) & 0xff) as u8 % 160)
}

fn draw(width: u32, height: u32, seed: u64, name: &str, req: &ImageRequest) -> Canvas {
    let mut canvas = Canvas::gradient(width, height, colour(seed, 0), colour(seed, 29));
    let white: Rgb = [255, 255, 255];
    let short = width.min(height);
    let margin = short / 16;
    let border = (short / 128).max(2);
    // A frame, so the image reads as a placeholder at a glance.
    canvas.fill_rect(0, 0, width, border, white);
    canvas.fill_rect(0, height - border, width, border, white);
    canvas.fill_rect(0, 0, border, height, white);
    canvas.fill_rect(width - border, 0, border, height, white);

    let inner = width - 2 * margin;
    let body_scale = (short / 170).max(1);
    let title_scale = (body_scale * 2)
        .min(inner / text_width(name.chars().count().max(1), 1))
        .max(1);
    let body_chars = (inner / text_width(1, body_scale)) as usize;
    let mut lines: Vec<(String, u32)> = vec![("OFFLINE PREVIEW".to_owned(), body_scale)];
    lines.extend(
        wrap(name, (inner / text_width(1, title_scale)) as usize)
            .into_iter()
            .map(|l| (l, title_scale)),
    );
    lines.push((String::new(), body_scale));
    let max_lines = ((height - 2 * margin) / line_height(body_scale)) as usize;
    let prompt_room = max_lines.saturating_sub(lines.len() + 2).max(1);
    let mut prompt = wrap(&req.prompt, body_chars);
    if prompt.len() > prompt_room {
        prompt.truncate(prompt_room);
        if let Some(last) = prompt.last_mut() {
            last.push_str("...");
        }
    }
    lines.extend(prompt.into_iter().map(|l| (l, body_scale)));
    lines.push((String::new(), body_scale));
    lines.push((
        format!("{} {} OFFLINE", req.aspect_ratio, req.image_quality.wire()),
        body_scale,
    ));

    let total: u32 = lines.iter().map(|(_, s)| line_height(*s)).sum();
    let top = margin.max(height.saturating_sub(total) / 2);
    canvas.shade_rect(
        margin / 2,
        top.saturating_sub(margin / 2),
        width - margin,
        total + margin,
        110,
    );
    let mut y = top;
    for (line, scale) in &lines {
        if y + line_height(*scale) > height - border {
            break;
        }
        canvas.text(margin, y, line, *scale, white);
        y += line_height(*scale);
    }
    canvas
}

#[async_trait]
impl ImageProvider for OfflineProvider {
    fn name(&self) -> &'static str {
        "offline"
    }

    fn is_offline(&self) -> bool {
        true
    }

    async fn generate(
        &self,
        _key: Option<&str>,
        req: &ImageRequest,
    ) -> Result<GeneratedImage, GeminiError> {
        Self::render(req)
    }
}

#[async_trait]
impl AnalysisProvider for OfflineProvider {
    fn name(&self) -> &'static str {
        "offline"
    }

    fn is_offline(&self) -> bool {
        true
    }

    async fn analyze(
        &self,
        _key: Option<&str>,
        product: &ProductInput,
    ) -> Result<ProductAnalysis, GeminiError> {
        Ok(analysis::analyze(product))
    }
}
