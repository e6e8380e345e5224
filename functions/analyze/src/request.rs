//! The `POST /api/analyze` body and its validation.
//!
//! Fields are read loosely (all optional) and checked afterwards, so one 400 lists EVERY invalid
//! field with its path (`products[2].imageBase64`), not just the first one serde stumbles on.
//! Unknown fields, wrong JSON types and malformed JSON are still refused by serde
//! (`deny_unknown_fields`, through `StrictJson`).

use std::collections::HashSet;

use base64::prelude::{BASE64_STANDARD, Engine};
use scenergy_gemini::{ImageFormat, InlineImage, ProductInput};
use scenergy_http::FieldError;
use serde::Deserialize;

pub const MAX_PRODUCTS: usize = 20;
pub const MAX_ID_CHARS: usize = 128;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Largest decoded image: Gemini takes inline images up to ~20 MB per request, but 3 MiB keeps a
/// request with one image well inside Lambda's 6 MB payload cap once base64 inflates it by 4/3.
pub const MAX_IMAGE_BYTES: usize = 3 * 1024 * 1024;
pub const MIME_TYPES: [&str; 3] = ["image/png", "image/jpeg", "image/webp"];

/// The body as sent. Validate with [`AnalyzeRequest::validate`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AnalyzeRequest {
    pub products: Option<Vec<ProductRequest>>,
}

/// One product as sent.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProductRequest {
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub image_base64: Option<String>,
    pub mime_type: Option<String>,
}

impl std::fmt::Debug for ProductRequest {
    // The image can be megabytes of base64; its length is all a log needs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProductRequest")
            .field("id", &self.id)
            .field("name", &self.name)
            .field(
                "image_base64_len",
                &self.image_base64.as_ref().map(String::len),
            )
            .field("mime_type", &self.mime_type)
            .finish_non_exhaustive()
    }
}

/// A validated product, ready for the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidProduct {
    pub id: String,
    pub input: ProductInput,
}

impl ValidProduct {
    /// Whether the product goes to the vision model (and its rate-limit bucket).
    pub fn has_image(&self) -> bool {
        !self.input.images.is_empty()
    }
}

/// Product ids are echoed in results and may become keys downstream, so they use the same
/// alphabet as clientIds and the enqueue function's ids.
fn key_safe(s: &str) -> Result<(), String> {
    let chars = s.chars().count();
    if chars == 0 || chars > MAX_ID_CHARS {
        return Err(format!("must be 1-{MAX_ID_CHARS} characters"));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-@:".contains(&b))
    {
        return Err("may only hold letters, digits and . _ - @ :".to_owned());
    }
    Ok(())
}

/// The field errors found so far.
#[derive(Debug, Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldError::new(field, reason));
    }
}

impl AnalyzeRequest {
    /// The valid products in request order, or every invalid field.
    pub fn validate(self) -> Result<Vec<ValidProduct>, Vec<FieldError>> {
        let mut errors = Errors::default();
        let Some(products) = self.products else {
            errors.add("products", "is required");
            return Err(errors.0);
        };
        if products.is_empty() || products.len() > MAX_PRODUCTS {
            errors.add(
                "products",
                format!(
                    "must hold 1-{MAX_PRODUCTS} products (got {})",
                    products.len()
                ),
            );
        }
        let mut seen = HashSet::new();
        let mut valid = Vec::with_capacity(products.len());
        for (i, product) in products.into_iter().enumerate() {
            let path = format!("products[{i}]");
            if let Some(id) = &product.id
                && key_safe(id).is_ok()
                && !seen.insert(id.clone())
            {
                errors.add(format!("{path}.id"), format!("duplicate id {id:?}"));
            }
            if let Some(p) = product.validate(&path, &mut errors) {
                valid.push(p);
            }
        }
        if errors.0.is_empty() {
            Ok(valid)
        } else {
            Err(errors.0)
        }
    }
}

impl ProductRequest {
    fn validate(self, path: &str, errors: &mut Errors) -> Option<ValidProduct> {
        let before = errors.0.len();
        let id = match self.id {
            Some(id) => key_safe(&id)
                .map_err(|why| errors.add(format!("{path}.id"), why))
                .ok()
                .map(|()| id),
            None => {
                errors.add(format!("{path}.id"), "is required");
                None
            }
        };
        let name = match self.name {
            Some(name) => {
                let chars = name.chars().count();
                if name.trim().is_empty() || chars > MAX_NAME_CHARS {
                    errors.add(
                        format!("{path}.name"),
                        format!("must be 1-{MAX_NAME_CHARS} characters, not blank (got {chars})"),
                    );
                }
                Some(name)
            }
            None => {
                errors.add(format!("{path}.name"), "is required");
                None
            }
        };
        let description = self.description.unwrap_or_default();
        let chars = description.chars().count();
        if chars > MAX_DESCRIPTION_CHARS {
            errors.add(
                format!("{path}.description"),
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters (got {chars})"),
            );
        }
        let image = image(self.image_base64, self.mime_type, path, errors);
        if errors.0.len() != before {
            return None;
        }
        Some(ValidProduct {
            id: id?,
            input: ProductInput {
                name: name?,
                description,
                images: image.into_iter().collect(),
            },
        })
    }
}

/// Checks `imageBase64` + `mimeType` together: the type is required with an image, must be one
/// Gemini accepts inline, and must match the bytes (Gemini rejects a contradicting label, and a
/// mislabelled upload is a client bug worth reporting rather than silently fixing).
fn image(
    data: Option<String>,
    mime_type: Option<String>,
    path: &str,
    errors: &mut Errors,
) -> Option<InlineImage> {
    let image_field = format!("{path}.imageBase64");
    let mime_field = format!("{path}.mimeType");
    let declared = match mime_type.as_deref().map(str::trim) {
        None => None,
        Some(m) => match MIME_TYPES.iter().find(|t| t.eq_ignore_ascii_case(m)) {
            Some(t) => Some(*t),
            None => {
                errors.add(
                    &mime_field,
                    format!("{m:?} is not one of {}", MIME_TYPES.join(", ")),
                );
                return None;
            }
        },
    };
    let Some(data) = data else {
        if declared.is_some() {
            errors.add(&mime_field, "is only allowed together with imageBase64");
        }
        return None;
    };
    // A cheap bound before decoding: base64 carries 3 bytes per 4 characters.
    if data.len() / 4 * 3 > MAX_IMAGE_BYTES + 3 {
        errors.add(&image_field, too_large(data.len() / 4 * 3));
        return None;
    }
    let Ok(bytes) = BASE64_STANDARD.decode(data.trim()) else {
        errors.add(
            &image_field,
            "is not valid base64 (standard alphabet, padded)",
        );
        return None;
    };
    if bytes.is_empty() {
        errors.add(&image_field, "must not be empty");
        return None;
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        errors.add(&image_field, too_large(bytes.len()));
        return None;
    }
    let sniffed = ImageFormat::sniff(&bytes).map(ImageFormat::mime_type);
    let Some(declared) = declared else {
        errors.add(&mime_field, "is required when imageBase64 is set");
        return None;
    };
    match sniffed {
        Some(actual) if actual == declared => Some(InlineImage::new(bytes)),
        Some(actual) => {
            errors.add(
                &mime_field,
                format!("says {declared} but the image is {actual}"),
            );
            None
        }
        None => {
            errors.add(&image_field, "is not a PNG, JPEG or WebP image");
            None
        }
    }
}

fn too_large(bytes: usize) -> String {
    format!("decodes to {bytes} bytes; at most {MAX_IMAGE_BYTES} (3 MiB) are accepted")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn product(id: &str) -> ProductRequest {
        ProductRequest {
            id: Some(id.to_owned()),
            name: Some("Oak chair".to_owned()),
            description: None,
            image_base64: None,
            mime_type: None,
        }
    }

    fn fields(request: AnalyzeRequest) -> Vec<String> {
        request
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn every_invalid_field_is_reported_with_its_path() {
        let mut bad = product("a/b");
        bad.name = Some(" ".to_owned());
        let mut dup = product("sku");
        dup.image_base64 = Some(BASE64_STANDARD.encode(PNG));
        let request = AnalyzeRequest {
            products: Some(vec![product("sku"), bad, dup]),
        };
        assert_eq!(
            fields(request),
            [
                "products[1].id",
                "products[1].name",
                "products[2].id",
                "products[2].mimeType"
            ]
        );
    }

    #[test]
    fn images_must_decode_fit_and_match_their_type() {
        let mut p = product("a");
        p.image_base64 = Some("not base64!".to_owned());
        p.mime_type = Some("image/png".to_owned());
        let mut jpeg = product("b");
        jpeg.image_base64 = Some(BASE64_STANDARD.encode(PNG));
        jpeg.mime_type = Some("image/jpeg".to_owned());
        let mut big = product("c");
        big.image_base64 = Some(BASE64_STANDARD.encode(vec![0u8; MAX_IMAGE_BYTES + 1]));
        big.mime_type = Some("image/png".to_owned());
        let request = AnalyzeRequest {
            products: Some(vec![p, jpeg, big]),
        };
        assert_eq!(
            fields(request),
            [
                "products[0].imageBase64",
                "products[1].mimeType",
                "products[2].imageBase64"
            ]
        );
        let mut ok = product("d");
        ok.image_base64 = Some(BASE64_STANDARD.encode(PNG));
        ok.mime_type = Some("IMAGE/PNG".to_owned());
        let valid = AnalyzeRequest {
            products: Some(vec![ok]),
        }
        .validate()
        .unwrap();
        assert!(valid[0].has_image());
        assert_eq!(valid[0].input.images[0].mime_type, "image/png");
    }

    #[test]
    fn product_count_is_bounded() {
        assert_eq!(
            fields(AnalyzeRequest {
                products: Some(vec![])
            }),
            ["products"]
        );
        let many = (0..21).map(|i| product(&format!("p{i}"))).collect();
        assert_eq!(
            fields(AnalyzeRequest {
                products: Some(many)
            }),
            ["products"]
        );
        assert_eq!(fields(AnalyzeRequest { products: None }), ["products"]);
    }
}
