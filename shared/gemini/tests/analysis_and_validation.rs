//! The client against the simulator: structured output, vision, snake_case responses and
//! request validation.

mod common;

use std::sync::Arc;

use common::{KEY, bounded, request, setup};
use gemini_sim::SimConfig;
use scenergy_gemini::{
    AnalysisProvider, GeminiError, ImageProvider, ImageQuality, InlineImage, OfflineProvider,
    ProductAnalysis, ProductInput, product_analysis_schema,
};

#[tokio::test]
async fn structured_output_text_vision_and_snake_case() {
    bounded(async {
        let (client, sim) = setup(SimConfig::default(), "gemini-2.5-flash-image").await;
        let schema = product_analysis_schema();
        let a: ProductAnalysis = client
            .analyze_text(KEY, "an oak lamp", &schema)
            .await
            .unwrap();
        assert!(!a.category.is_empty());
        assert!(!a.scene_suggestions.is_empty());
        assert!(!a.offline);
        let a: ProductAnalysis = client
            .analyze_text(KEY, "x [[sim:snake]]", &schema)
            .await
            .unwrap();
        assert!(!a.materials.is_empty(), "snake_case response parsed");

        let photo = OfflineProvider::render(&request("ref", "1:1", ImageQuality::K1)).unwrap();
        let product = ProductInput {
            name: "Oak lamp".to_owned(),
            description: "A lamp".to_owned(),
            images: vec![InlineImage::new(photo.bytes)],
        };
        let provider: Arc<dyn AnalysisProvider> = Arc::new(client.clone());
        let a = provider.analyze(Some(KEY), &product).await.unwrap();
        assert!(!a.colours.is_empty());
        // A wrong label is corrected from the magic bytes (the simulator, like the real API,
        // rejects a label that contradicts the data).
        let mislabelled = ProductInput {
            images: vec![InlineImage {
                mime_type: "image/jpeg".to_owned(),
                bytes: product.images[0].bytes.clone(),
            }],
            ..product.clone()
        };
        assert!(provider.analyze(Some(KEY), &mislabelled).await.is_ok());
        assert!(matches!(
            provider.analyze(None, &product).await,
            Err(GeminiError::MissingKey)
        ));

        #[derive(Debug, serde::Deserialize)]
        struct Wrong {
            #[allow(dead_code)]
            price: u32,
        }
        let err = client
            .analyze_text::<Wrong>(KEY, "x", &schema)
            .await
            .unwrap_err();
        assert!(matches!(err, GeminiError::MalformedResponse(_)), "{err:?}");
        let err = client
            .analyze_text::<ProductAnalysis>(KEY, "x [[sim:finish=MAX_TOKENS]]", &schema)
            .await
            .unwrap_err();
        assert!(matches!(err, GeminiError::MaxTokens), "{err:?}");
        assert_eq!(sim.stats().total_calls, 6);

        let img = client
            .generate_image(KEY, &request("x [[sim:snake]]", "4:3", ImageQuality::K1))
            .await
            .unwrap();
        assert!(img.width > img.height);
    })
    .await;
}

#[tokio::test]
async fn unsupported_sizes_fail_before_any_call() {
    bounded(async {
        let (client, sim) = setup(SimConfig::default(), "gemini-2.5-flash-image").await;
        let err = client
            .generate_image(KEY, &request("x", "1:1", ImageQuality::K4))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, GeminiError::UnsupportedImageSize { model, size } if model == "gemini-2.5-flash-image" && size == "4K"),
            "{err:?}"
        );
        assert!(err.is_invalid_request());
        let err = client
            .generate_image(KEY, &request("x", "8:1", ImageQuality::K1))
            .await
            .unwrap_err();
        assert!(matches!(err, GeminiError::UnsupportedAspectRatio { .. }), "{err:?}");
        assert_eq!(sim.stats().total_calls, 0, "nothing was sent");

        let (pro, _sim) = setup(SimConfig::default(), "gemini-3-pro-image-preview").await;
        let provider: Arc<dyn ImageProvider> = Arc::new(pro);
        assert!(!provider.is_offline());
        let img = provider
            .generate(Some(KEY), &request("x", "9:16", ImageQuality::K4))
            .await
            .unwrap();
        assert_eq!((img.width, img.height), (768, 1344));
    })
    .await;
}

#[tokio::test]
async fn connection_failures_are_transport_errors() {
    bounded(async {
        // Bind then drop a listener: nothing listens on that port afterwards.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = scenergy_gemini::GeminiClient::new(scenergy_gemini::GeminiConfig {
            base_url: format!("http://127.0.0.1:{port}"),
            ..scenergy_gemini::GeminiConfig::default()
        })
        .unwrap();
        let err = client
            .generate_image(KEY, &request("x", "1:1", ImageQuality::K1))
            .await
            .unwrap_err();
        assert!(matches!(err, GeminiError::Transport(_)), "{err:?}");
        assert_eq!(err.class(), scenergy_gemini::ErrorClass::Retryable);
    })
    .await;
}
