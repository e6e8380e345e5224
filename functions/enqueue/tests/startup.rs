//! The real binary: a missing or malformed setting stops start-up with a message naming the
//! variable, and the openapi.yaml bounds are the ones the code enforces.

use std::process::Command;

use scenergy_enqueue::request::{ASPECT_RATIOS, MAX_PRODUCTS, MAX_PROMPT_CHARS};

fn start(env: &[(&str, &str)]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_enqueue"))
        .env_clear()
        .envs(env.iter().copied())
        .env("PORT", "0")
        .output()
        .expect("the binary runs");
    assert!(!output.status.success(), "start-up must fail");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_settings_stop_start_up_naming_the_variable() {
    let rest = [
        ("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:1"),
        ("UPSTASH_REDIS_REST_TOKEN", "t"),
    ];
    let stderr = start(&rest);
    assert!(stderr.contains("AUTH_JWT_SECRET"), "{stderr}");
    let secret = ("AUTH_JWT_SECRET", "0123456789abcdef0123456789abcdef");
    let stderr = start(&[rest[0], rest[1], secret, ("WAKE_TRANSPORT", "http")]);
    assert!(stderr.contains("WORKER_WAKE_URL"), "{stderr}");
    let stderr = start(&[secret]);
    assert!(stderr.contains("REDIS_URL"), "{stderr}");
    assert!(
        !stderr.contains("0123456789abcdef"),
        "secrets stay out: {stderr}"
    );
}

#[test]
fn the_spec_states_the_bounds_the_code_enforces() {
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.yaml"))
        .expect("openapi.yaml at the repository root");
    let ratios = ASPECT_RATIOS
        .iter()
        .map(|r| format!("'{r}'"))
        .collect::<Vec<_>>()
        .join(", ");
    assert!(spec.contains(&format!("enum: [{ratios}]")), "aspect ratios");
    assert!(
        spec.contains(&format!("maxItems: {MAX_PRODUCTS}")),
        "productIds"
    );
    assert!(
        spec.contains(&format!("maxLength: {MAX_PROMPT_CHARS}")),
        "prompt"
    );
}
