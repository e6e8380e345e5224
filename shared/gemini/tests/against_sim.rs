//! The client against the real simulator over HTTP: images and every error outcome.

mod common;

use std::time::Duration;

use common::{KEY, bounded, image_err, request, setup};
use gemini_sim::SimConfig;
use scenergy_gemini::{
    ErrorClass, GeminiClient, GeminiConfig, GeminiError, ImageQuality, RateLimitScope,
};

#[tokio::test]
async fn image_ok_with_magic_bytes_dimensions_and_text() {
    bounded(async {
        let (client, sim) = setup(SimConfig::default(), "gemini-2.5-flash-image").await;
        let img = client
            .generate_image(KEY, &request("a lamp on a desk", "16:9", ImageQuality::K1))
            .await
            .unwrap();
        assert!(img.bytes.starts_with(b"\x89PNG"));
        assert_eq!(img.mime_type, "image/png");
        assert_eq!(img.declared_mime_type, None);
        assert_eq!(
            (img.width, img.height),
            (336, 192),
            "1344x768 / render divisor 4"
        );
        assert_eq!(img.provider, "gemini");
        assert_eq!(img.model, "gemini-2.5-flash-image");
        assert!(img.text.is_some());
        assert_eq!(img.response_id.as_deref().map(str::len), Some(22));
        assert_eq!(sim.stats().calls_per_key.get(KEY), Some(&1));
    })
    .await;
}

#[tokio::test]
async fn mislabelled_and_thought_images_are_handled() {
    bounded(async {
        let (client, _sim) = setup(SimConfig::default(), "gemini-3-pro-image-preview").await;
        let img = client
            .generate_image(KEY, &request("x [[sim:mislabel]]", "1:1", ImageQuality::K2))
            .await
            .unwrap();
        assert_eq!(img.mime_type, "image/png", "magic bytes win over the label");
        assert_eq!(img.declared_mime_type.as_deref(), Some("image/jpeg"));
        assert_eq!((img.width, img.height), (512, 512));
        let img = client
            .generate_image(KEY, &request("x [[sim:thought]]", "1:1", ImageQuality::K1))
            .await
            .unwrap();
        assert_eq!(
            (img.width, img.height),
            (256, 256),
            "final image, not the thought draft"
        );
        assert!(
            !img.text.unwrap().contains("Planning"),
            "thought text is excluded"
        );
    })
    .await;
}

#[tokio::test]
async fn rate_limits_parse_retry_info_and_scope() {
    bounded(async {
        let sim = SimConfig {
            rpm_per_key: 1,
            minute: Duration::from_millis(2000),
            ..SimConfig::default()
        };
        let (client, _sim) = setup(sim, "gemini-2.5-flash-image").await;
        client
            .generate_image(KEY, &request("a", "1:1", ImageQuality::K1))
            .await
            .unwrap();
        let err = image_err(&client, "b").await;
        let GeminiError::RateLimited {
            retry_after,
            scope,
            quota_id,
        } = &err
        else {
            panic!("{err:?}");
        };
        let retry = retry_after.expect("RetryInfo parsed");
        assert!(
            retry > Duration::ZERO && retry <= Duration::from_secs(2),
            "{retry:?}"
        );
        assert_eq!(*scope, RateLimitScope::PerMinute);
        assert_eq!(
            quota_id.as_deref(),
            Some("GenerateRequestsPerMinutePerProjectPerModel-FreeTier")
        );
        assert_eq!(
            err.class(),
            ErrorClass::CoolKey {
                retry_after: *retry_after,
                per_day: false
            }
        );
        tokio::time::sleep(retry + Duration::from_millis(50)).await;
        assert!(
            client
                .generate_image(KEY, &request("c", "1:1", ImageQuality::K1))
                .await
                .is_ok()
        );
        let day = image_err(&client, "d [[sim:quota=day]]").await;
        assert!(
            matches!(day.class(), ErrorClass::CoolKey { per_day: true, .. }),
            "{day:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn credential_errors_disable_the_key() {
    bounded(async {
        let sim = SimConfig {
            invalid_keys: vec![KEY.to_owned()],
            leaked_keys: vec!["leaked".to_owned()],
            ..SimConfig::default()
        };
        let (client, _sim) = setup(sim, "gemini-2.5-flash-image").await;
        let err = image_err(&client, "x").await;
        assert!(matches!(err, GeminiError::InvalidKey), "{err:?}");
        assert_eq!(err.class(), ErrorClass::DisableKey);
        let err = client
            .generate_image("leaked", &request("x", "1:1", ImageQuality::K1))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, GeminiError::PermissionDenied { message, .. } if message.contains("leaked")),
            "{err:?}"
        );
        assert_eq!(err.class(), ErrorClass::DisableKey);
        let err = client
            .generate_image("  ", &request("x", "1:1", ImageQuality::K1))
            .await
            .unwrap_err();
        assert!(matches!(err, GeminiError::MissingKey));
    })
    .await;
}

#[tokio::test]
async fn server_errors_are_retryable() {
    bounded(async {
        let (client, sim) = setup(
            SimConfig {
                error_rate_503: 1.0,
                ..SimConfig::default()
            },
            "gemini-2.5-flash-image",
        )
        .await;
        let err = image_err(&client, "x").await;
        assert!(
            matches!(&err, GeminiError::Unavailable { message } if message.contains("overloaded")),
            "{err:?}"
        );
        assert_eq!(err.class(), ErrorClass::Retryable);
        assert_eq!(sim.stats().errors_injected, 1);
        let (client, _sim) = setup(
            SimConfig {
                error_rate_500: 1.0,
                ..SimConfig::default()
            },
            "gemini-2.5-flash-image",
        )
        .await;
        let err = image_err(&client, "x").await;
        assert!(matches!(err, GeminiError::Internal { .. }), "{err:?}");
        assert_eq!(err.class(), ErrorClass::Retryable);
        let (client, _sim) = setup(SimConfig::default(), "gemini-2.5-flash-image").await;
        let err = image_err(&client, "x [[sim:status=504]]").await;
        assert!(
            matches!(err, GeminiError::Server { status: 504, .. }),
            "{err:?}"
        );
        let err = image_err(&client, "x [[sim:status=404]]").await;
        assert!(matches!(err, GeminiError::NotFound { .. }), "{err:?}");
        assert_eq!(err.class(), ErrorClass::Fatal);
    })
    .await;
}

#[tokio::test]
async fn content_outcomes_are_typed_and_final() {
    bounded(async {
        let (client, _sim) = setup(SimConfig::default(), "gemini-2.5-flash-image").await;
        let err = image_err(&client, "x [[sim:block=SAFETY]]").await;
        assert!(
            matches!(&err, GeminiError::PromptBlocked { reason } if reason == "SAFETY"),
            "{err:?}"
        );
        assert_eq!(err.class(), ErrorClass::Fatal);
        for reason in [
            "SAFETY",
            "IMAGE_SAFETY",
            "PROHIBITED_CONTENT",
            "RECITATION",
            "SPII",
            "BLOCKLIST",
        ] {
            let err = image_err(&client, &format!("x [[sim:finish={reason}]]")).await;
            assert!(
                matches!(&err, GeminiError::Blocked { reason: r } if r == reason),
                "{err:?}"
            );
            assert_eq!(err.class(), ErrorClass::Fatal);
        }
        let err = image_err(&client, "x [[sim:finish=MAX_TOKENS]]").await;
        assert!(matches!(err, GeminiError::MaxTokens), "{err:?}");
        for (reason, class) in [
            ("OTHER", ErrorClass::Retryable),
            ("NO_IMAGE", ErrorClass::Retryable),
            ("MALFORMED_FUNCTION_CALL", ErrorClass::Fatal),
        ] {
            let err = image_err(&client, &format!("x [[sim:finish={reason}]]")).await;
            assert!(
                matches!(&err, GeminiError::FinishedEarly { reason: r } if r == reason),
                "{err:?}"
            );
            assert_eq!(err.class(), class, "{reason}");
        }
        let err = image_err(&client, "x [[sim:text-only]]").await;
        assert!(
            matches!(&err, GeminiError::NoImage { text } if text.contains("unable")),
            "{err:?}"
        );
        assert_eq!(err.class(), ErrorClass::Fatal);
    })
    .await;
}

#[tokio::test]
async fn malformed_bodies_and_timeouts() {
    bounded(async {
        let (mut_client, _sim) = setup(SimConfig::default(), "gemini-2.5-flash-image").await;
        for hook in ["[[sim:malformed]]", "[[sim:wrong-shape]]"] {
            let err = image_err(&mut_client, hook).await;
            assert!(
                matches!(err, GeminiError::MalformedResponse(_)),
                "{hook}: {err:?}"
            );
            assert_eq!(err.class(), ErrorClass::Retryable);
        }
        let config = GeminiConfig {
            timeout: Duration::from_millis(300),
            ..mut_client.config().clone()
        };
        let client = GeminiClient::new(config).unwrap();
        let started = std::time::Instant::now();
        let err = image_err(&client, "x [[sim:latency=5000]]").await;
        assert!(matches!(err, GeminiError::Timeout(_)), "{err:?}");
        assert_eq!(err.class(), ErrorClass::Retryable);
        assert!(started.elapsed() < Duration::from_secs(3));
        let (held, _sim2) = setup(
            SimConfig {
                timeout_rate: 1.0,
                ..SimConfig::default()
            },
            "gemini-2.5-flash-image",
        )
        .await;
        let held = GeminiClient::new(GeminiConfig {
            timeout: Duration::from_millis(300),
            ..held.config().clone()
        })
        .unwrap();
        assert!(matches!(
            image_err(&held, "x").await,
            GeminiError::Timeout(_)
        ));
    })
    .await;
}
