//! Auth and body validation over real HTTP: every refusal is problem JSON, never a 5xx, and no
//! model call is made for an invalid request.

mod common;

use base64::prelude::{BASE64_STANDARD, Engine};
use common::{
    PNG_1X1, TEST_TIMEOUT, TestApp, assert_problem, body, fields, image_product, parts, product,
    token,
};
use scenergy_testkit::bounded;
use serde_json::{Value, json};

#[tokio::test]
async fn requests_without_a_valid_token_are_401() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::offline().await;
        let valid = body(&[product("sku-1", "Oak chair")]);
        let none = app.http.post(app.url()).json(&valid).send().await.unwrap();
        assert_problem(401, &parts(none).await);
        let garbage = app
            .http
            .post(app.url())
            .bearer_auth("not-a-jwt")
            .json(&valid)
            .send()
            .await
            .unwrap();
        assert_problem(401, &parts(garbage).await);
        let other_secret = scenergy_http::auth::mint(
            &"another-secret-another-secret-xx".to_owned().into(),
            "acme",
            std::time::Duration::from_secs(60),
        )
        .unwrap();
        let forged = app
            .http
            .post(app.url())
            .bearer_auth(other_secret)
            .json(&valid)
            .send()
            .await
            .unwrap();
        let reply = parts(forged).await;
        assert_problem(401, &reply);
        assert_eq!(reply.2["detail"], "invalid token: bad signature");
        // Auth is checked before the body, so an anonymous caller learns nothing about it.
        let anonymous_bad_body = app
            .http
            .post(app.url())
            .json(&json!({"nope": 1}))
            .send()
            .await
            .unwrap();
        assert_problem(401, &parts(anonymous_bad_body).await);
    })
    .await;
}

#[tokio::test]
async fn product_bounds_and_duplicates_are_field_errors() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::offline().await;
        let reply = parts(app.analyze(&body(&[])).await).await;
        assert_problem(400, &reply);
        assert_eq!(fields(&reply.2), ["products"]);

        let many: Vec<Value> = (0..21)
            .map(|i| product(&format!("sku-{i}"), "Chair"))
            .collect();
        let reply = parts(app.analyze(&body(&many)).await).await;
        assert_problem(400, &reply);
        assert_eq!(fields(&reply.2), ["products"]);

        let twenty: Vec<Value> = (0..20)
            .map(|i| product(&format!("sku-{i}"), "Chair"))
            .collect();
        assert_eq!(app.analyze(&body(&twenty)).await.status(), 200);

        let reply = parts(
            app.analyze(&body(&[
                product("sku-1", "Chair"),
                product("sku-1", "Table"),
                json!({"id": "bad/id", "name": ""}),
                json!({"name": "x".repeat(201), "description": "y".repeat(2001)}),
            ]))
            .await,
        )
        .await;
        assert_problem(400, &reply);
        assert_eq!(
            fields(&reply.2),
            [
                "products[1].id",
                "products[2].id",
                "products[2].name",
                "products[3].id",
                "products[3].name",
                "products[3].description"
            ],
            "{}",
            reply.2
        );
    })
    .await;
}

#[tokio::test]
async fn images_are_checked_and_every_bad_one_is_reported() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::offline().await;
        let oversize = BASE64_STANDARD.encode(vec![0u8; 3 * 1024 * 1024 + 1]);
        let reply = parts(
            app.analyze(&body(&[
                json!({"id": "a", "name": "Lamp", "imageBase64": "%%%not base64", "mimeType": "image/png"}),
                json!({"id": "b", "name": "Lamp", "imageBase64": PNG_1X1}),
                json!({"id": "c", "name": "Lamp", "imageBase64": PNG_1X1, "mimeType": "image/jpeg"}),
                json!({"id": "d", "name": "Lamp", "imageBase64": oversize, "mimeType": "image/png"}),
                json!({"id": "e", "name": "Lamp", "imageBase64": PNG_1X1, "mimeType": "image/gif"}),
                image_product("f"),
            ]))
            .await,
        )
        .await;
        assert_problem(400, &reply);
        assert_eq!(
            fields(&reply.2),
            [
                "products[0].imageBase64",
                "products[1].mimeType",
                "products[2].mimeType",
                "products[3].imageBase64",
                "products[4].mimeType"
            ],
            "{}",
            reply.2
        );
        let reasons: Vec<&str> = reply.2["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["reason"].as_str().unwrap())
            .collect();
        assert!(reasons[1].contains("required"), "{reasons:?}");
        assert!(reasons[2].contains("image/png"), "{reasons:?}");
        assert!(reasons[3].contains("3 MiB"), "{reasons:?}");
    })
    .await;
}

#[tokio::test]
async fn unknown_fields_malformed_json_and_oversized_bodies_are_problems() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::offline().await;
        let reply = parts(
            app.analyze(&json!({"products": [{"id": "a", "name": "Lamp", "colour": "red"}]}))
                .await,
        )
        .await;
        assert_problem(400, &reply);
        assert_eq!(fields(&reply.2), ["products[0].colour"]);

        let reply = parts(app.analyze(&json!({"products": [], "extra": true})).await).await;
        assert_problem(400, &reply);

        let send_raw = |raw: Vec<u8>, content_type: &'static str| {
            app.http
                .post(app.url())
                .bearer_auth(token("acme"))
                .header("content-type", content_type)
                .body(raw)
                .send()
        };
        let reply = parts(
            send_raw(b"{\"products\": [".to_vec(), "application/json")
                .await
                .unwrap(),
        )
        .await;
        assert_problem(400, &reply);
        assert!(
            reply.2["errors"][0]["reason"]
                .as_str()
                .unwrap()
                .starts_with("malformed JSON")
        );

        let reply = parts(
            send_raw(b"products=1".to_vec(), "text/plain")
                .await
                .unwrap(),
        )
        .await;
        assert_problem(415, &reply);

        // 6 MiB of otherwise valid JSON: over the 5 MiB limit.
        let huge = format!(
            r#"{{"products":[{{"id":"a","name":"Lamp","description":"{}"}}]}}"#,
            "x".repeat(6 * 1024 * 1024)
        );
        let reply = parts(
            send_raw(huge.into_bytes(), "application/json")
                .await
                .unwrap(),
        )
        .await;
        assert_problem(413, &reply);
    })
    .await;
}

#[tokio::test]
async fn wrong_methods_and_paths_are_problems() {
    bounded(TEST_TIMEOUT, async {
        let app = TestApp::offline().await;
        let reply = parts(app.http.get(app.url()).send().await.unwrap()).await;
        assert_problem(405, &reply);
        let reply = parts(
            app.http
                .post(format!("{}/api/analyse", app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_problem(404, &reply);
    })
    .await;
}
