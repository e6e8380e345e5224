//! `products`: a client sees its own products only; unknown ids are simply absent.

use scenergy_db::{MIGRATOR, NewProduct, PgPool, products_for_client, seed_demo_products};

fn ids(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|&s| s.to_owned()).collect()
}

#[sqlx::test(migrator = "MIGRATOR", fixtures("products"))]
async fn returns_own_products_and_drops_unknown_and_foreign_ids(pool: PgPool) {
    let found = products_for_client(
        &pool,
        "client-a",
        &ids(&["a-sofa", "b-vase", "nope", "a-lamp"]),
    )
    .await
    .unwrap();
    let got: Vec<_> = found.iter().map(|p| p.id.as_str()).collect();
    // b-vase exists but is client-b's: it must look exactly like a missing id.
    assert_eq!(got, ["a-lamp", "a-sofa"]);
    let sofa = &found[1];
    assert_eq!(sofa.client_id, "client-a");
    assert_eq!(sofa.description.as_deref(), Some("Oat linen, oak legs"));
    assert_eq!(
        sofa.reference_image_key.as_deref(),
        Some("client-a/refs/a-sofa.png")
    );
    assert_eq!(found[0].description, None);
}

#[sqlx::test(migrator = "MIGRATOR", fixtures("products"))]
async fn another_client_gets_nothing_for_foreign_ids(pool: PgPool) {
    let found = products_for_client(&pool, "client-b", &ids(&["a-sofa", "a-lamp"]))
        .await
        .unwrap();
    assert!(found.is_empty());
    let none = products_for_client(&pool, "client-a", &[]).await.unwrap();
    assert!(none.is_empty());
}

#[sqlx::test(migrator = "MIGRATOR", fixtures("products"))]
async fn upsert_updates_own_product_but_never_takes_over_another_clients(pool: PgPool) {
    let mine = NewProduct {
        id: "a-lamp",
        client_id: "client-a",
        name: "Arc lamp, brass",
        description: Some("Brushed brass"),
        reference_image_key: None,
    };
    assert!(scenergy_db::upsert_product(&pool, &mine).await.unwrap());
    let theirs = NewProduct {
        id: "b-vase",
        client_id: "client-a",
        name: "Hijacked",
        ..mine
    };
    assert!(!scenergy_db::upsert_product(&pool, &theirs).await.unwrap());

    let vase = products_for_client(&pool, "client-b", &ids(&["b-vase"]))
        .await
        .unwrap();
    assert_eq!(vase[0].name, "Stone vase");
    let lamp = products_for_client(&pool, "client-a", &ids(&["a-lamp"]))
        .await
        .unwrap();
    assert_eq!(lamp[0].name, "Arc lamp, brass");
}

#[sqlx::test(migrator = "MIGRATOR")]
async fn demo_seed_is_idempotent(pool: PgPool) {
    let first = seed_demo_products(&pool, "demo").await.unwrap();
    let second = seed_demo_products(&pool, "demo").await.unwrap();
    assert_eq!(first, second);
    let found = products_for_client(&pool, "demo", &first).await.unwrap();
    assert_eq!(found.len(), 3);
    scenergy_db::ping(&pool).await.unwrap();
}
