//! The dashboard over HTTP: the switch, auth (bearer, basic with a browser challenge), pages
//! that escape what jobs carry, and the actions with their CSRF check and confirmation step.

mod monitoring;

use monitoring::{TEST_TIMEOUT, cleanup, queue};
use scenergy_config::Env;
use scenergy_queue::{JobState, NewJob, Priority, Queue, now_ms};
use scenergy_testkit::bounded;
use scenergy_worker::admin::{AdminConfig, AdminState, routes};
use serde_json::json;

const TOKEN: &str = "admin-token-for-tests-0123456789";

async fn serve(queue: &Queue, enabled: bool) -> String {
    let state = enabled.then(|| {
        let config = AdminConfig::from_env(&Env::from_pairs([
            ("ENABLE_BULL_BOARD", "true"),
            ("ADMIN_TOKEN", TOKEN),
        ]))
        .unwrap()
        .unwrap();
        AdminState::new(config, vec![queue.clone()], None)
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, routes(state)).await.unwrap() });
    base
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form") + 19;
    page[at..at + 32].to_owned()
}

#[test]
fn the_switch_and_the_token_are_typed_settings() {
    assert!(
        AdminConfig::from_env(&Env::from_pairs([("X", "1")]))
            .unwrap()
            .is_none()
    );
    let off = Env::from_pairs([("ENABLE_BULL_BOARD", "false"), ("ADMIN_TOKEN", TOKEN)]);
    assert!(AdminConfig::from_env(&off).unwrap().is_none());
    let missing = Env::from_pairs([("ENABLE_BULL_BOARD", "true")]);
    assert_eq!(
        AdminConfig::from_env(&missing).unwrap_err().var(),
        "ADMIN_TOKEN"
    );
    let short = Env::from_pairs([("ENABLE_BULL_BOARD", "true"), ("ADMIN_TOKEN", "short")]);
    assert_eq!(
        AdminConfig::from_env(&short).unwrap_err().var(),
        "ADMIN_TOKEN"
    );
    let bad = Env::from_pairs([("ENABLE_BULL_BOARD", "maybe")]);
    assert_eq!(
        AdminConfig::from_env(&bad).unwrap_err().var(),
        "ENABLE_BULL_BOARD"
    );
}

#[tokio::test]
async fn switched_off_every_admin_path_is_a_404() {
    bounded(TEST_TIMEOUT, async {
        let (q, _redis) = queue().await;
        let base = serve(&q, false).await;
        let c = client();
        for path in [
            "/admin",
            "/admin/queues",
            &format!("/admin/queues/{}", q.name()),
        ] {
            let r = c
                .get(format!("{base}{path}"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404, "{path}");
        }
        let r = c
            .post(format!("{base}/admin/queues/x/actions"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn the_token_is_required_as_bearer_or_basic_password() {
    bounded(TEST_TIMEOUT, async {
        let (q, _redis) = queue().await;
        let base = serve(&q, true).await;
        let c = client();
        let url = format!("{base}/admin/queues");
        let none = c.get(&url).send().await.unwrap();
        assert_eq!(none.status(), 401);
        assert!(
            none.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic ")
        );
        let wrong = c
            .get(&url)
            .basic_auth("ops", Some("not-the-token"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        let wrong = c
            .get(&url)
            .bearer_auth("not-the-token")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        let basic = c
            .get(&url)
            .basic_auth("anyone", Some(TOKEN))
            .send()
            .await
            .unwrap();
        assert_eq!(basic.status(), 200);
        let csp = basic.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        let bearer = c.get(&url).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(bearer.status(), 200);
        let css = c
            .get(format!("{base}/admin/static/admin.css"))
            .send()
            .await
            .unwrap();
        assert_eq!(css.status(), 401, "static files are behind the token too");
        cleanup(&q).await;
    })
    .await;
}

#[tokio::test]
async fn pages_escape_what_jobs_carry() {
    bounded(TEST_TIMEOUT, async {
        let (q, _redis) = queue().await;
        let base = serve(&q, true).await;
        let c = client();
        let evil = "<script>alert(1)</script>";
        let id = q
            .enqueue(NewJob::new("<img src=x onerror=alert(2)>", evil, json!({ "prompt": evil })))
            .await
            .unwrap()
            .job_id;
        let claim = q.claim("w", 1, 30_000, now_ms()).await.unwrap();
        let result = json!({
            "assets": [
                { "id": "a1", "url": "https://cdn.example/a1.png", "productId": "p1", "variant": 0 },
                { "id": "a2", "url": "javascript:alert(3)", "productId": "p2", "variant": 1 },
            ],
            "failed": [{ "productId": "p3", "variant": 0, "reason": evil }],
        });
        q.complete("w", &[(claim.jobs[0].id.clone(), result)], now_ms())
            .await
            .unwrap();
        let pages = [
            format!("{base}/admin/queues"),
            format!("{base}/admin/queues/{}?state=completed", q.name()),
            format!("{base}/admin/queues/{}?q={}", q.name(), "%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
            format!("{base}/admin/queues/{}/jobs/{id}", q.name()),
        ];
        for url in &pages {
            let page = c.get(url).bearer_auth(TOKEN).send().await.unwrap();
            assert_eq!(page.status(), 200, "{url}");
            let html = page.text().await.unwrap();
            assert!(!html.contains("<script>alert"), "{url}: unescaped");
            assert!(!html.contains("<img src=x"), "{url}: unescaped");
            assert!(!html.contains("href=\"javascript:"), "{url}: script URL linked");
        }
        let detail = c.get(&pages[3]).bearer_auth(TOKEN).send().await.unwrap().text().await.unwrap();
        assert!(detail.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(detail.contains("<img src=\"https://cdn.example/a1.png\""), "thumbnail");
        assert!(detail.contains("href=\"https://cdn.example/a1.png\""), "asset link");
        assert!(detail.contains("enqueued") && detail.contains("claimed"), "timeline");
        let search = c.get(&pages[2]).bearer_auth(TOKEN).send().await.unwrap().text().await.unwrap();
        assert!(search.contains(&format!("data-job=\"{id}\"")), "found by client id");
        // A job id search goes straight to the job.
        let r = c
            .get(format!("{base}/admin/queues/{}?q={id}", q.name()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        cleanup(&q).await;
    })
    .await;
}

#[tokio::test]
async fn actions_need_the_csrf_token_and_destructive_ones_a_confirmation() {
    bounded(TEST_TIMEOUT, async {
        let (q, _redis) = queue().await;
        let base = serve(&q, true).await;
        let c = client();
        let id = q
            .enqueue(NewJob::new("image_generation", "c", json!({})))
            .await
            .unwrap()
            .job_id;
        let claim = q.claim("w", 1, 30_000, now_ms()).await.unwrap();
        q.fail("w", &claim.jobs[0].id, "boom", false, 0, now_ms())
            .await
            .unwrap();
        let page = c
            .get(format!("{base}/admin/queues/{}?state=failed", q.name()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(&format!("data-job=\"{id}\"")));
        let token = csrf(&page);
        let actions = format!("{base}/admin/queues/{}/actions", q.name());
        let post = |body: String| {
            c.post(&actions)
                .bearer_auth(TOKEN)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        // No token, a wrong one, or another site's form: refused, nothing changes.
        for body in [
            format!("action=retry&id={id}"),
            format!("action=retry&id={id}&csrf=0000"),
        ] {
            assert_eq!(post(body).await.unwrap().status(), 403);
        }
        let cross = c
            .post(&actions)
            .bearer_auth(TOKEN)
            .header("origin", "https://evil.example")
            .body(format!("action=retry&id={id}&csrf={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(cross.status(), 403);
        assert_eq!(q.job(&id).await.unwrap().unwrap().state, JobState::Failed);

        let retried = post(format!(
            "action=retry&id={id}&csrf={token}&back=%2Fadmin%2Fqueues"
        ))
        .await
        .unwrap();
        assert_eq!(retried.status(), 303);
        let to = retried.headers()["location"].to_str().unwrap();
        assert!(to.starts_with("/admin/queues?notice="), "{to}");
        assert_eq!(q.job(&id).await.unwrap().unwrap().state, JobState::Waiting);

        // Remove asks first.
        let ask = post(format!("action=remove&id={id}&csrf={token}"))
            .await
            .unwrap();
        assert_eq!(ask.status(), 200);
        let ask = ask.text().await.unwrap();
        assert!(
            ask.contains("name=\"confirm\"") && ask.contains("required"),
            "{ask}"
        );
        assert!(q.job(&id).await.unwrap().is_some());
        let removed = post(format!("action=remove&id={id}&csrf={token}&confirm=yes"))
            .await
            .unwrap();
        assert_eq!(removed.status(), 303);
        assert!(q.job(&id).await.unwrap().is_none());

        // Pause and resume; promote; clean.
        assert_eq!(
            post(format!("action=pause&csrf={token}"))
                .await
                .unwrap()
                .status(),
            303
        );
        assert!(q.counts().await.unwrap().paused);
        let overview = c
            .get(format!("{base}/admin/queues"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(overview.contains("data-paused=\"1\""));
        assert_eq!(
            post(format!("action=resume&csrf={token}"))
                .await
                .unwrap()
                .status(),
            303
        );
        assert!(!q.counts().await.unwrap().paused);
        let later = q
            .enqueue(
                NewJob::new("image_generation", "c", json!({}))
                    .priority(Priority::Batch)
                    .delay_ms(3_600_000),
            )
            .await
            .unwrap()
            .job_id;
        assert_eq!(
            post(format!("action=promote&id={later}&csrf={token}"))
                .await
                .unwrap()
                .status(),
            303
        );
        assert_eq!(
            q.job(&later).await.unwrap().unwrap().state,
            JobState::Waiting
        );
        let claim = q.claim("w", 1, 30_000, now_ms()).await.unwrap();
        q.complete(
            "w",
            &[(claim.jobs[0].id.clone(), json!({}))],
            now_ms() - 7_200_000,
        )
        .await
        .unwrap();
        let clean = post(format!("action=clean&hours=1&csrf={token}&confirm=yes"))
            .await
            .unwrap();
        assert_eq!(clean.status(), 303);
        assert!(
            clean.headers()["location"]
                .to_str()
                .unwrap()
                .contains("Removed%201%20finished")
        );
        assert_eq!(q.counts().await.unwrap().completed, 0);
        // Bad input is a 400, not a crash.
        let bad = post(format!("action=retry&id=not-a-job&csrf={token}"))
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        cleanup(&q).await;
    })
    .await;
}
