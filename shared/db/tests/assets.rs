//! `generated_asset`: idempotent inserts and the resume set.

use scenergy_db::{MIGRATOR, NewAsset, PgPool, assets_for_job, insert_asset, persisted_items};

fn asset<'a>(product_id: &'a str, variant_index: i32, key: &'a str) -> NewAsset<'a> {
    NewAsset {
        job_id: "job-1",
        client_id: "client-a",
        product_id,
        variant_index,
        object_key: key,
        url: "https://cdn.example.test/x.png",
        content_type: "image/png",
        width: Some(1024),
        height: Some(768),
        bytes: 2048,
        provider: "gemini",
    }
}

#[sqlx::test(migrator = "MIGRATOR", fixtures("job"))]
async fn second_insert_of_the_same_item_is_a_no_op(pool: PgPool) {
    let first = asset("a-lamp", 0, "client-a/session-1/job-1/a-lamp-0.png");
    assert!(insert_asset(&pool, &first).await.unwrap());

    // A retry stores the same item again (same key) and may report other metadata; the first
    // row stands and nothing is duplicated.
    let retry = NewAsset {
        bytes: 4096,
        provider: "offline",
        ..first
    };
    assert!(!insert_asset(&pool, &retry).await.unwrap());

    let rows = assets_for_job(&pool, "job-1").await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].bytes, 2048);
    assert_eq!(rows[0].provider, "gemini");
    assert_eq!(rows[0].object_key, first.object_key);
    assert!(!rows[0].id.is_empty());
}

#[sqlx::test(migrator = "MIGRATOR", fixtures("job", "partial_assets"))]
async fn persisted_items_drive_resume(pool: PgPool) {
    let done = persisted_items(&pool, "job-1").await.unwrap();
    let all: Vec<(String, i32)> = ["a-sofa", "a-lamp"]
        .iter()
        .flat_map(|p| (0..2).map(move |v| ((*p).to_owned(), v)))
        .collect();

    // What a resumed worker would do: generate only what is not persisted yet.
    let todo: Vec<_> = all.iter().filter(|item| !done.contains(*item)).collect();
    assert_eq!(todo, [&("a-lamp".to_owned(), 0), &("a-lamp".to_owned(), 1)]);
    for (product, variant) in todo {
        let key = format!("client-a/session-1/job-1/{product}-{variant}.png");
        assert!(
            insert_asset(&pool, &asset(product, *variant, &key))
                .await
                .unwrap()
        );
    }

    let done = persisted_items(&pool, "job-1").await.unwrap();
    assert_eq!(done.into_iter().collect::<Vec<_>>(), {
        let mut sorted = all.clone();
        sorted.sort();
        sorted
    });
    let rows = assets_for_job(&pool, "job-1").await.unwrap();
    let order: Vec<_> = rows
        .iter()
        .map(|r| (r.product_id.as_str(), r.variant_index))
        .collect();
    assert_eq!(
        order,
        [("a-lamp", 0), ("a-lamp", 1), ("a-sofa", 0), ("a-sofa", 1)]
    );
    assert!(
        persisted_items(&pool, "other-job")
            .await
            .unwrap()
            .is_empty()
    );
}

#[sqlx::test(migrator = "MIGRATOR", fixtures("job"))]
async fn constraints_reject_bad_assets(pool: PgPool) {
    let cases = [
        (
            asset("a-lamp", 4, "k/variant-4.png"),
            "generated_asset_variant_index_check",
        ),
        (
            NewAsset {
                provider: "dall-e",
                ..asset("a-lamp", 0, "k/provider.png")
            },
            "generated_asset_provider_check",
        ),
        (
            // An asset can never belong to another client than its job.
            NewAsset {
                client_id: "client-b",
                ..asset("a-lamp", 0, "k/client.png")
            },
            "generated_asset_job_fkey",
        ),
        (
            NewAsset {
                job_id: "no-such-job",
                ..asset("a-lamp", 0, "k/job.png")
            },
            "generated_asset_job_fkey",
        ),
    ];
    for (bad, constraint) in cases {
        let err = insert_asset(&pool, &bad).await.unwrap_err();
        assert_eq!(err.constraint(), Some(constraint), "{err}");
        assert!(!err.is_transient());
    }

    // Two items can never share an object: one would have overwritten the other.
    assert!(
        insert_asset(&pool, &asset("a-lamp", 0, "k/same.png"))
            .await
            .unwrap()
    );
    let err = insert_asset(&pool, &asset("a-lamp", 1, "k/same.png"))
        .await
        .unwrap_err();
    assert_eq!(err.constraint(), Some("generated_asset_object_key_key"));
}
