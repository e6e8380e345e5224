//! Deterministic product analysis from the name and description: keyword matches where the
//! text gives them away, otherwise a stable choice by hash, so results look plausible and
//! repeat exactly.

use super::fnv1a;
use crate::provider::{ProductAnalysis, ProductInput, SceneSuggestion};

const CATEGORIES: [&str; 14] = [
    "lamp",
    "chair",
    "sofa",
    "table",
    "desk",
    "bottle",
    "mug",
    "vase",
    "sneaker",
    "bag",
    "watch",
    "headphones",
    "candle",
    "plant",
];
const STYLES: [&str; 7] = [
    "minimalist",
    "modern",
    "mid-century",
    "rustic",
    "industrial",
    "scandinavian",
    "vintage",
];
const MATERIALS: [&str; 12] = [
    "wood", "oak", "walnut", "metal", "steel", "brass", "glass", "ceramic", "leather", "linen",
    "marble", "plastic",
];
const COLOURS: [&str; 12] = [
    "black", "white", "grey", "beige", "brown", "red", "orange", "yellow", "green", "blue", "pink",
    "gold",
];

fn matches(text: &str, words: &[&'static str]) -> Vec<String> {
    words
        .iter()
        .filter(|w| text.contains(*w))
        .map(|w| (*w).to_owned())
        .collect()
}

fn pick(words: &[&'static str], seed: u64) -> String {
    words[(seed % words.len() as u64) as usize].to_owned()
}

pub(super) fn analyze(product: &ProductInput) -> ProductAnalysis {
    let text = format!("{} {}", product.name, product.description).to_lowercase();
    let seed = fnv1a(text.as_bytes());
    let category = matches(&text, &CATEGORIES)
        .into_iter()
        .next()
        .unwrap_or_else(|| "product".to_owned());
    let style = matches(&text, &STYLES)
        .into_iter()
        .next()
        .unwrap_or_else(|| pick(&STYLES, seed));
    let mut materials = matches(&text, &MATERIALS);
    if materials.is_empty() {
        materials.push(pick(&MATERIALS, seed >> 8));
    }
    let mut colours = matches(&text, &COLOURS);
    if colours.is_empty() {
        colours.push(pick(&COLOURS, seed >> 16));
    }
    let name = if product.name.trim().is_empty() {
        "the product"
    } else {
        product.name.trim()
    };
    let scene_suggestions = vec![
        SceneSuggestion {
            title: "Studio hero shot".to_owned(),
            prompt_hint: format!(
                "{name} on a seamless {} backdrop, soft key light",
                colours[0]
            ),
        },
        SceneSuggestion {
            title: "Lifestyle interior".to_owned(),
            prompt_hint: format!(
                "{name} in {} {style} living space, natural window light",
                article(&style)
            ),
        },
        SceneSuggestion {
            title: "Detail close-up".to_owned(),
            prompt_hint: format!("Macro detail of the {} texture of {name}", materials[0]),
        },
    ];
    ProductAnalysis {
        category,
        style,
        materials,
        colours,
        scene_suggestions,
        offline: true,
    }
}

/// "a" or "an", by the first letter, which is right for every style word we use.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}
