//! Energy per token from model size (METHODOLOGY.md §2): the Epoch AI FLOP model and the
//! EcoLogits 0.11 LLM inference model, combined into low / central / high IT-level Wh per
//! 1,000 output and input tokens. Pure functions of the parameters and the set's constants.

use crate::model::Bounds;

/// H100 dense BF16 throughput, FLOP/s (Epoch AI 2025).
pub const H100_FLOPS: f64 = 989e12;
/// Power per GPU slot, W: DGX H100 10.2 kW / 8 = 1,275 W (Epoch AI 2025).
pub const GPU_SLOT_W: f64 = 1275.0;
/// Share of the slot power drawn on average (Epoch AI 2025).
pub const POWER_SHARE: f64 = 0.7;

/// EcoLogits 0.11 fit constants (impacts/llm.py).
pub mod ecologits {
    /// GPU energy per output token: alpha.
    pub const ALPHA: f64 = 1.166_527_317_045_191_4e-6;
    /// GPU energy per output token: beta (per batch element).
    pub const BETA: f64 = -0.011_205_921_025_579_175;
    /// GPU energy per output token: gamma.
    pub const GAMMA: f64 = 4.052_928_146_734_005e-5;
    /// Latency per output token: per billion active parameters.
    pub const LAT_P: f64 = 6.785_088_094_353_663e-4;
    /// Latency per output token: per batch element.
    pub const LAT_B: f64 = 3.119_310_311_688_259e-4;
    /// Latency per output token: constant.
    pub const LAT_C: f64 = 1.947_371_757_947_338_7e-2;
    /// Batch size.
    pub const BATCH: f64 = 64.0;
    /// Server (non-GPU) power, kW, for 8 GPUs.
    pub const SERVER_KW: f64 = 1.2;
    /// GPU memory, GB.
    pub const GPU_MEMORY_GB: f64 = 80.0;
    /// Memory overhead factor.
    pub const MEMORY_OVERHEAD: f64 = 1.2;
    /// Bits per parameter.
    pub const QUANT_BITS: f64 = 16.0;
}

/// FLOP-model IT energy, Wh per 1,000 tokens, for `p_active` billion parameters at GPU
/// utilisation `u`: `1000 · 2·P·1e9 / (989e12 · u) · 1275 · 0.7 / 3600` = 5.0135e-4 · P / u.
pub fn flop_wh_per_1k(p_active: f64, u: f64) -> f64 {
    1000.0 * 2.0 * p_active * 1e9 / (H100_FLOPS * u) * GPU_SLOT_W * POWER_SHARE / 3600.0
}

/// GPUs EcoLogits assigns to a model of `p_total` billion parameters:
/// `2^ceil(log2(ceil(1.2 · P_tot · 16/8 / 80)))`.
pub fn ecologits_gpus(p_total: f64) -> f64 {
    use ecologits::*;
    let memory_gb = MEMORY_OVERHEAD * p_total * QUANT_BITS / 8.0;
    let needed = (memory_gb / GPU_MEMORY_GB).ceil().max(1.0);
    2f64.powf(needed.log2().ceil())
}

/// Seconds per output token in EcoLogits 0.11.3 (`impacts/llm.py` `generation_latency`): one
/// over the model's own output speed (`tps`, tokens per second) when it has one, else the
/// latency regression on active parameters and batch size.
pub fn ecologits_s_per_token(p_active: f64, tps: Option<f64>) -> f64 {
    use ecologits::*;
    match tps {
        Some(t) if t > 0.0 && t.is_finite() => 1.0 / t,
        _ => LAT_P * p_active + LAT_B * BATCH + LAT_C,
    }
}

/// EcoLogits' server (non-GPU) energy, Wh, for `seconds` of generation: the server's 1.2 kW
/// shared by the model's GPUs (of 8 per server) and the batch.
pub fn ecologits_server_wh(seconds: f64, p_total: f64) -> f64 {
    use ecologits::*;
    seconds / 3600.0 * SERVER_KW * 1000.0 * (ecologits_gpus(p_total) / 8.0) / BATCH
}

/// EcoLogits 0.11 IT energy per 1,000 output tokens (GPU + server share, no PUE), at the
/// model's own output speed `tps` when known (EcoLogits 0.11.3), else at its latency
/// regression. The time to the first token, which EcoLogits charges once per request, is not
/// in a per-token figure.
pub fn ecologits_wh_per_1k(p_active: f64, p_total: f64, tps: Option<f64>) -> f64 {
    use ecologits::*;
    let gpus = ecologits_gpus(p_total);
    let gpu_wh_per_token = ALPHA * (BETA * BATCH).exp() * p_active + GAMMA;
    let server_wh_per_token = ecologits_server_wh(ecologits_s_per_token(p_active, tps), p_total);
    1000.0 * (gpus * gpu_wh_per_token + server_wh_per_token)
}

/// Per-token energy of one model: output and input, IT level, Wh per 1,000 tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenEnergy {
    /// Decoding (output tokens).
    pub e_out: Bounds,
    /// Prefill (input tokens).
    pub e_in: Bounds,
}

/// The METHODOLOGY §2 table. `u_out` / `u_in` are the utilisations used for the low, central
/// and high results (low uses the higher utilisation); `tps` is the model's own output speed
/// for EcoLogits' server share, when the set has one.
pub fn token_energy(
    active: (f64, f64),
    total_max: f64,
    u_out: Bounds,
    u_in: Bounds,
    tps: Option<f64>,
) -> TokenEnergy {
    let (a_min, a_max) = active;
    let p_mid = (a_min * a_max).sqrt();
    TokenEnergy {
        e_out: Bounds {
            low: flop_wh_per_1k(a_min, u_out.low),
            central: flop_wh_per_1k(p_mid, u_out.central),
            high: ecologits_wh_per_1k(a_max, total_max, tps).max(flop_wh_per_1k(a_max, u_out.high)),
        },
        e_in: Bounds {
            low: flop_wh_per_1k(a_min, u_in.low),
            central: flop_wh_per_1k(p_mid, u_in.central),
            high: flop_wh_per_1k(a_max, u_in.high),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        ((a - b) / b).abs() < rel
    }

    #[test]
    fn gpt4o_matches_the_methodology_worked_check() {
        // METHODOLOGY.md §2: GPT-4o (P_act 44–132, P_tot 440 → G = 16)
        // e_out = 0.110 / 0.382 / 3.195; e_in = 0.0368 / 0.0955 / 0.331 Wh per 1k.
        assert_eq!(ecologits_gpus(440.0), 16.0);
        let e = token_energy(
            (44.0, 132.0),
            440.0,
            Bounds {
                low: 0.2,
                central: 0.1,
                high: 0.05,
            },
            Bounds {
                low: 0.6,
                central: 0.4,
                high: 0.2,
            },
            None,
        );
        assert!(close(e.e_out.low, 0.110, 0.01), "{}", e.e_out.low);
        assert!(close(e.e_out.central, 0.382, 0.01), "{}", e.e_out.central);
        assert!(close(e.e_out.high, 3.195, 0.01), "{}", e.e_out.high);
        assert!(close(e.e_in.low, 0.0368, 0.01), "{}", e.e_in.low);
        assert!(close(e.e_in.central, 0.0955, 0.01), "{}", e.e_in.central);
        assert!(close(e.e_in.high, 0.331, 0.01), "{}", e.e_in.high);
    }

    #[test]
    fn gpt4o_at_its_own_speed_matches_ecologits_0_11_3() {
        // EcoLogits 0.11.3 gives gpt-4o 74 output tokens/s (models.json). Per token, at
        // P_act 132 and P_tot 440 (G = 16):
        //   GPU    16 × (1.16653e-6 × e^(-0.0112059 × 64) × 132 + 4.05293e-5)
        //        = 16 × (1.16653e-6 × 0.488127 × 132 + 4.05293e-5) = 16 × 1.156919e-4 Wh
        //        = 1.851071e-3 Wh
        //   server (1/74 s) / 3600 × 1,200 W × 16/8 / 64 = 1.407658e-4 Wh
        // = 1.991836e-3 Wh per token, 1.99184 Wh per 1,000 (EcoLogits' own llm_impacts, run
        // on 0.11.3: 1.99184); with the latency regression instead: 3.195.
        let own = ecologits_wh_per_1k(132.0, 440.0, Some(74.0));
        assert!(close(own, 1.99184, 1e-5), "{own}");
        assert!(close(
            ecologits_server_wh(1.0 / 74.0, 440.0) * 1000.0,
            0.1407658,
            1e-5
        ));
        let fallback = ecologits_wh_per_1k(132.0, 440.0, None);
        assert!(close(fallback, 3.195, 1e-3), "{fallback}");
        // A speed of zero (a bad EcoLogits data update once wrote `tps: 0.0`) is no speed.
        assert_eq!(ecologits_wh_per_1k(132.0, 440.0, Some(0.0)), fallback);
    }

    #[test]
    fn flop_constant_is_5_0135e_minus_4() {
        // 1000·2e9/989e12·1275·0.7/3600 = 5.0135e-4 per billion parameters at u = 1.
        assert!(close(flop_wh_per_1k(1.0, 1.0), 5.0135e-4, 1e-4));
    }
}
