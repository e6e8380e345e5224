//! The offline provider: real, deterministic PNGs and analyses.

use std::io::Cursor;

use scenergy_gemini::{
    AnalysisProvider, ImageProvider, ImageQuality, ImageRequest, OfflineProvider, ProductInput,
};

fn request(prompt: &str, ratio: &str, quality: ImageQuality) -> ImageRequest {
    ImageRequest {
        prompt: prompt.to_owned(),
        product_name: Some("Walnut side table".to_owned()),
        reference_images: Vec::new(),
        aspect_ratio: ratio.to_owned(),
        image_quality: quality,
    }
}

fn decode(bytes: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(Cursor::new(bytes.to_vec()))
        .read_info()
        .unwrap();
    (reader.info().width, reader.info().height)
}

#[tokio::test]
async fn renders_decodable_pngs_with_the_right_ratio() {
    let provider = OfflineProvider::new();
    assert!(provider.is_offline());
    for (ratio, quality, size) in [
        ("1:1", ImageQuality::K1, (1024, 1024)),
        ("16:9", ImageQuality::K1, (1024, 576)),
        ("9:16", ImageQuality::K2, (864, 1536)),
        ("4:3", ImageQuality::K4, (2048, 1536)),
        ("21:9", ImageQuality::K1, (1024, 439)),
    ] {
        let img = provider
            .generate(None, &request("a sunny loft with plants", ratio, quality))
            .await
            .unwrap();
        assert_eq!(img.provider, "offline");
        assert_eq!(img.mime_type, "image/png");
        assert_eq!((img.width, img.height), size, "{ratio}");
        assert_eq!(decode(&img.bytes), size, "{ratio}");
    }
}

#[tokio::test]
async fn output_is_deterministic_and_depends_on_the_prompt() {
    let provider = OfflineProvider::new();
    let a = provider
        .generate(None, &request("scene one", "1:1", ImageQuality::K1))
        .await
        .unwrap();
    let b = provider
        .generate(None, &request("scene one", "1:1", ImageQuality::K1))
        .await
        .unwrap();
    let c = provider
        .generate(None, &request("scene two", "1:1", ImageQuality::K1))
        .await
        .unwrap();
    assert_eq!(a.bytes, b.bytes);
    assert_ne!(a.bytes, c.bytes);
    let mut other_name = request("scene one", "1:1", ImageQuality::K1);
    other_name.product_name = Some("Brass lamp".to_owned());
    assert_ne!(
        provider.generate(None, &other_name).await.unwrap().bytes,
        a.bytes
    );
}

#[tokio::test]
async fn rejects_unknown_ratios() {
    let err = OfflineProvider::new()
        .generate(None, &request("x", "2:1", ImageQuality::K1))
        .await
        .unwrap_err();
    assert!(err.is_invalid_request(), "{err:?}");
}

#[tokio::test]
async fn analysis_is_deterministic_and_marked_offline() {
    let provider = OfflineProvider::new();
    let product = ProductInput {
        name: "Walnut side table".to_owned(),
        description: "Scandinavian design with a brass base, natural brown finish".to_owned(),
        images: Vec::new(),
    };
    let a = provider.analyze(None, &product).await.unwrap();
    assert!(a.offline);
    assert_eq!(a.category, "table");
    assert_eq!(a.style, "scandinavian");
    assert_eq!(a.materials, vec!["walnut", "brass"]);
    assert_eq!(a.colours, vec!["brown"]);
    assert_eq!(a.scene_suggestions.len(), 3);
    assert_eq!(provider.analyze(None, &product).await.unwrap(), a);
}
