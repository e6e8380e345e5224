//! A tiny RGB canvas: gradient fill, darkened panels, scaled bitmap text, PNG encoding.
//! Integer arithmetic only, so the same input always yields the same bytes.

use std::io::Cursor;

use super::font::{GLYPH_H, GLYPH_W, glyph};

#[derive(Debug)]
pub(crate) struct Canvas {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pixels: Vec<u8>,
}

pub(crate) type Rgb = [u8; 3];

impl Canvas {
    /// A vertical gradient from `top` to `bottom`.
    pub(crate) fn gradient(width: u32, height: u32, top: Rgb, bottom: Rgb) -> Self {
        let mut pixels = Vec::with_capacity((width * height * 3) as usize);
        let span = height.saturating_sub(1).max(1);
        for y in 0..height {
            let row: Rgb = std::array::from_fn(|c| {
                ((u32::from(top[c]) * (span - y) + u32::from(bottom[c]) * y) / span) as u8
            });
            for _ in 0..width {
                pixels.extend_from_slice(&row);
            }
        }
        Self {
            width,
            height,
            pixels,
        }
    }

    fn idx(&self, x: u32, y: u32) -> usize {
        ((y * self.width + x) * 3) as usize
    }

    pub(crate) fn fill_rect(&mut self, x0: u32, y0: u32, w: u32, h: u32, colour: Rgb) {
        for y in y0..(y0 + h).min(self.height) {
            for x in x0..(x0 + w).min(self.width) {
                let i = self.idx(x, y);
                self.pixels[i..i + 3].copy_from_slice(&colour);
            }
        }
    }

    /// Darkens a rectangle to `keep`/256 of its brightness: a readable panel behind text.
    pub(crate) fn shade_rect(&mut self, x0: u32, y0: u32, w: u32, h: u32, keep: u32) {
        for y in y0..(y0 + h).min(self.height) {
            for x in x0..(x0 + w).min(self.width) {
                let i = self.idx(x, y);
                for p in &mut self.pixels[i..i + 3] {
                    *p = (u32::from(*p) * keep / 256) as u8;
                }
            }
        }
    }

    /// Draws `text` with its top-left corner at (x, y), each font pixel `scale`×`scale`.
    pub(crate) fn text(&mut self, x: u32, y: u32, text: &str, scale: u32, colour: Rgb) {
        let advance = (GLYPH_W + 1) * scale;
        for (n, c) in text.chars().enumerate() {
            let gx = x + n as u32 * advance;
            if gx + GLYPH_W * scale > self.width {
                break;
            }
            for (row, bits) in glyph(c).iter().enumerate() {
                for col in 0..GLYPH_W {
                    if bits >> (GLYPH_W - 1 - col) & 1 == 1 {
                        self.fill_rect(
                            gx + col * scale,
                            y + row as u32 * scale,
                            scale,
                            scale,
                            colour,
                        );
                    }
                }
            }
        }
    }

    pub(crate) fn encode_png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(Cursor::new(&mut out), self.width, self.height);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            enc.set_compression(png::Compression::Fast);
            // Writing a valid header and exactly width*height*3 bytes into a Vec cannot fail.
            let mut writer = enc.write_header().expect("png header");
            writer.write_image_data(&self.pixels).expect("png data");
        }
        out
    }
}

/// Width in pixels of `chars` glyphs at `scale`.
pub(crate) fn text_width(chars: usize, scale: u32) -> u32 {
    chars as u32 * (GLYPH_W + 1) * scale
}

/// Line height at `scale` (glyph plus spacing).
pub(crate) fn line_height(scale: u32) -> u32 {
    (GLYPH_H + 3) * scale
}

/// Word-wraps `text` to lines of at most `max` characters; over-long words are split.
pub(crate) fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > max {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..max).collect());
        }
        let word: String = word.into_iter().collect();
        let needed = if line.is_empty() {
            word.chars().count()
        } else {
            line.chars().count() + 1 + word.chars().count()
        };
        if needed > max && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_and_splits_long_ones() {
        assert_eq!(
            wrap("a cosy reading nook", 9),
            vec!["a cosy", "reading", "nook"]
        );
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert!(wrap("   ", 5).is_empty());
    }

    #[test]
    fn text_sets_pixels() {
        let mut c = Canvas::gradient(20, 10, [0; 3], [0; 3]);
        c.text(1, 1, "I", 1, [255; 3]);
        assert!(c.pixels.contains(&255));
    }
}
