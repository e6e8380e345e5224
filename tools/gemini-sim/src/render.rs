//! Real PNG output: pixel sizes per aspect ratio and size class, and a cheap gradient render.

use std::io::Cursor;

/// The aspect ratios every image model accepts (§2.3).
pub(crate) const BASE_RATIOS: [&str; 10] = [
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
];
/// Extra ratios only `gemini-3.1-flash-image*` accepts.
pub(crate) const EXTREME_RATIOS: [&str; 4] = ["1:4", "4:1", "1:8", "8:1"];

/// 1K pixel size: the published gemini-2.5-flash-image table where there is one, else about
/// one megapixel rounded to multiples of 16.
pub(crate) fn size_1k(ratio: &str) -> (u32, u32) {
    match ratio {
        "1:1" => (1024, 1024),
        "2:3" => (832, 1248),
        "3:2" => (1248, 832),
        "3:4" => (864, 1184),
        "4:3" => (1184, 864),
        "4:5" => (896, 1152),
        "5:4" => (1152, 896),
        "9:16" => (768, 1344),
        "16:9" => (1344, 768),
        "21:9" => (1536, 672),
        other => {
            let (a, b) = parse_ratio(other).unwrap_or((1, 1));
            let w = (1_048_576.0 * f64::from(a) / f64::from(b)).sqrt();
            let h = w * f64::from(b) / f64::from(a);
            let round16 = |v: f64| ((v / 16.0).round() as u32).max(1) * 16;
            (round16(w), round16(h))
        }
    }
}

pub(crate) fn parse_ratio(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once(':')?;
    let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
    (a > 0 && b > 0).then_some((a, b))
}

/// Multiplier of the 1K size for an `imageSize` value, in halves (512 = 1, 1K = 2, …).
pub(crate) fn size_halves(image_size: &str) -> u32 {
    match image_size {
        "512" => 1,
        "2K" => 4,
        "4K" => 8,
        _ => 2,
    }
}

/// Renders a diagonal gradient whose colours come from `seed`, as PNG bytes.
pub(crate) fn render_png(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let c1 = [
        (seed & 0xff) as u8,
        (seed >> 8 & 0xff) as u8,
        (seed >> 16 & 0xff) as u8,
    ];
    let c2 = [
        (seed >> 24 & 0xff) as u8,
        (seed >> 32 & 0xff) as u8,
        (seed >> 40 & 0xff) as u8,
    ];
    let span = (width + height).max(1);
    let mut data = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            let t = (x + y) * 255 / span;
            for ch in 0..3 {
                let v = (u32::from(c1[ch]) * (255 - t) + u32::from(c2[ch]) * t) / 255;
                data.push(v as u8);
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(Cursor::new(&mut out), width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        // Encoding into a Vec cannot fail for a well-formed header, so a panic here is a bug.
        let mut writer = enc.write_header().expect("png header");
        writer.write_image_data(&data).expect("png data");
    }
    out
}

/// FNV-1a: a stable hash for deterministic colours and ids (std's hasher is randomly keyed).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_keep_the_ratio_class() {
        assert_eq!(size_1k("16:9"), (1344, 768));
        let (w, h) = size_1k("1:4");
        assert!((f64::from(h) / f64::from(w) - 4.0).abs() < 0.1, "{w}x{h}");
        assert_eq!(size_halves("4K"), 8);
    }

    #[test]
    fn renders_a_decodable_png() {
        let bytes = render_png(32, 18, 42);
        let reader = png::Decoder::new(Cursor::new(bytes)).read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (32, 18));
    }
}
