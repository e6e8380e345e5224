//! The `gemini-sim` binary: flags (or `GEMINI_SIM_*` variables) → [`gemini_sim::serve`].

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    scenergy_telemetry::init("gemini-sim");
    let args = gemini_sim::SimArgs::parse();
    gemini_sim::serve(args.into()).await
}
