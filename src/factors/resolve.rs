//! Model resolution, rules 2 (factor set 2026.2 and later; a set opts in with the constant
//! `resolution_rules` = 2, so 2026.1 resolves exactly as before).
//!
//! In order, each step tried on the id in lower case:
//! 1. the id as a model key, then as an alias;
//! 2. normalised spellings, each as a key then an alias: gateway paths (`openai/`, `models/`,
//!    `.../models/`, ARN paths), Bedrock cross-region prefixes (`us.`, `eu.`, `apac.`, `jp.`,
//!    `au.`, `ca.`, `us-gov.`, `global.`), vendor prefixes (`anthropic.`, `meta.`, `amazon.`,
//!    `openai.` ...), version suffixes (`-v1:0`, `:0`, `:200k`, `@date`; Vertex's `@2411-001`
//!    as `-2411`), `llama3-1` written
//!    `llama-3.1`, fine-tune wrappers, then dates (`-2024-08-06`, `-20240806`, `-0806`,
//!    `-preview-09-2025`, `-exp-03-25`) and trailing words that name a release channel or a
//!    packaging, not a model (`latest`, `preview`, `exp`, `instruct`, `maas`, `fp8`, `001`);
//! 3. the nearest sibling: a model key with the same family words and the same size parts, the
//!    nearest version number (the earlier on a tie), flagged with the sibling's name;
//! 4. a size class whose `match` names whole parts of the id (parts split on `- . _ : /`; a
//!    pattern `text-embedding` matches two consecutive parts), never a substring;
//! 5. the default class.

use super::{FactorSet, ModelMatch, ModelRow, ResolvedModel};

/// Bedrock cross-region inference prefixes (longest first).
const REGION_PREFIXES: [&str; 8] = [
    "us-gov.", "global.", "apac.", "us.", "eu.", "jp.", "au.", "ca.",
];

/// Vendor prefixes of Bedrock model ids (`anthropic.claude-...`).
const VENDOR_PREFIXES: [&str; 18] = [
    "anthropic.",
    "meta.",
    "mistral.",
    "amazon.",
    "cohere.",
    "ai21.",
    "deepseek.",
    "openai.",
    "qwen.",
    "writer.",
    "google.",
    "stability.",
    "twelvelabs.",
    "luma.",
    "moonshot.",
    "moonshotai.",
    "minimax.",
    "nvidia.",
];

/// Gateway prefixes (LiteLLM, OpenRouter, Azure AI Foundry ...).
const GATEWAY_PREFIXES: [&str; 12] = [
    "azure/",
    "azure_ai/",
    "bedrock/",
    "converse/",
    "vertex_ai/",
    "vertex_ai_beta/",
    "gemini/",
    "openrouter/",
    "openai/",
    "anthropic/",
    "google/",
    "models/",
];

/// Trailing words naming a channel or packaging, not a different model.
const NOISE: [&str; 11] = [
    "latest", "preview", "exp", "instruct", "maas", "fp8", "001", "002", "003", "it", "chat",
];

/// True for a reasoning model, whose answers carry hidden reasoning tokens (thousands per
/// request rather than hundreds): the o-series (o1, o3, o4), GPT-5 (not its chat variant),
/// DeepSeek-R1, gpt-oss, QwQ, Magistral, and any name with a part `reasoning` or `thinking`.
/// Judged on whole name parts of the resolved key and of the id as exported.
pub fn reasoning_model(key: &str, raw: &str) -> bool {
    let raw = raw.trim().to_lowercase();
    [key.to_lowercase(), unwrap_vendor(&raw)]
        .iter()
        .any(|name| {
            let p = parts(name);
            let first = p.first().copied().unwrap_or("");
            let o_series = first.len() == 2
                && first.starts_with('o')
                && first[1..].chars().all(|c| c.is_ascii_digit());
            o_series
                || (first == "gpt" && p.get(1) == Some(&"5") && !p.contains(&"chat"))
                || (first == "gpt" && p.get(1) == Some(&"oss"))
                || (first == "deepseek" && p.contains(&"r1"))
                || p.iter()
                    .any(|x| matches!(*x, "qwq" | "magistral" | "reasoning" | "thinking"))
        })
}

/// Splits a name into its parts (`- . _ : /`).
pub fn parts(name: &str) -> Vec<&str> {
    name.split(['-', '.', '_', ':', '/'])
        .filter(|p| !p.is_empty())
        .collect()
}

/// The spelling after the vendor wrappers are removed (before dates and channel words).
pub fn unwrap_vendor(lower: &str) -> String {
    let mut s = lower.trim().to_string();
    // Fine-tunes: ft:gpt-4o-mini-2024-07-18:org::id -> the base model.
    if let Some(rest) = s.strip_prefix("ft:") {
        s = rest.split(':').next().unwrap_or(rest).to_string();
    }
    // Paths: publishers/google/models/gemini-2.5-pro, arn:...:inference-profile/us.anthropic...,
    // meta-llama/llama-3.1-8b-instruct: the last path part.
    loop {
        let before = s.clone();
        for p in GATEWAY_PREFIXES {
            if let Some(rest) = s.strip_prefix(p) {
                s = rest.to_string();
            }
        }
        if s == before {
            break;
        }
    }
    if let Some((_, last)) = s.rsplit_once('/') {
        s = last.to_string();
    }
    for p in REGION_PREFIXES {
        if let Some(rest) = s.strip_prefix(p) {
            s = rest.to_string();
            break;
        }
    }
    for p in VENDOR_PREFIXES {
        if let Some(rest) = s.strip_prefix(p) {
            // deepseek.r1 names the model by its vendor: deepseek-r1.
            s = if p == "deepseek." && !rest.starts_with("deepseek") {
                format!("deepseek-{rest}")
            } else {
                rest.to_string()
            };
            break;
        }
    }
    // Vertex @date, Bedrock context-window and version suffixes (:200k, -v1:0, -v2, :0).
    // Vertex writes Mistral's version after the @ (`mistral-large@2411-001`, `codestral@2405`):
    // a four-digit version is part of the name (`mistral-large-2411`, Large 2, not Large 3);
    // a date (`@20250929`) or a revision (`@001`) is not.
    if let Some((base, tail)) = s.split_once('@') {
        let digits: String = tail.chars().take_while(|c| c.is_ascii_digit()).collect();
        let next = tail[digits.len()..].chars().next();
        s = if digits.len() == 4 && next.is_none_or(|c| c == '-') {
            format!("{base}-{digits}")
        } else {
            base.to_string()
        };
    }
    if let Some((base, tail)) = s.rsplit_once(':') {
        if tail.ends_with('k') && tail[..tail.len() - 1].chars().all(|c| c.is_ascii_digit()) {
            s = base.to_string();
        }
    }
    if let Some(pos) = s.rfind("-v") {
        let tail = &s[pos + 2..];
        if !tail.is_empty()
            && tail.starts_with(|c: char| c.is_ascii_digit())
            && tail.chars().all(|c| c.is_ascii_digit() || c == ':')
        {
            s.truncate(pos);
        }
    }
    if let Some((base, tail)) = s.rsplit_once(':') {
        if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit()) {
            s = base.to_string();
            // openai.gpt-oss-120b-1:0: a bare version after a size.
            if let Some((head, n)) = s.rsplit_once('-') {
                let size_before = head.rsplit('-').next().is_some_and(is_size);
                if size_before && !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) {
                    s = head.to_string();
                }
            }
        }
    }
    // Azure AI Foundry writes the vendor with a dash: Cohere-command-r-plus-08-2024.
    if let Some(rest) = s.strip_prefix("cohere-") {
        s = rest.to_string();
    }
    llama_spelling(&joined_words(&s))
}

/// A name whose words the billing joined without dashes, a word, a version and a word
/// (`nova2.0lite` from the Bedrock usage type `Nova2.0Lite`), as `nova-2.0-lite`. Both words
/// have three letters or more, so that `o4mini` or `gpt4o` are left alone.
fn joined_words(s: &str) -> String {
    let head = s.bytes().take_while(u8::is_ascii_lowercase).count();
    let rest = &s[head..];
    let version = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let tail = &rest[version..];
    let ok = head >= 3
        && version > 0
        && rest.as_bytes()[0].is_ascii_digit()
        && !rest[..version].ends_with('.')
        && tail.len() >= 3
        && tail.bytes().all(|b| b.is_ascii_lowercase());
    if ok {
        format!("{}-{}-{}", &s[..head], &rest[..version], tail)
    } else {
        s.to_string()
    }
}

/// `llama3-1-8b` and `llama3-8b` (Bedrock) as `llama-3.1-8b` and `llama-3-8b`; `meta-llama-3.1`
/// (Azure) as `llama-3.1`.
fn llama_spelling(s: &str) -> String {
    let s = s.strip_prefix("meta-").unwrap_or(s);
    let Some(rest) = s.strip_prefix("llama") else {
        return s.to_string();
    };
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let p: Vec<&str> = rest.split('-').collect();
    let digits = |x: &str| !x.is_empty() && x.len() <= 2 && x.chars().all(|c| c.is_ascii_digit());
    match p.as_slice() {
        [major, minor, tail @ ..] if digits(major) && digits(minor) => {
            let mut out = format!("llama-{major}.{minor}");
            for t in tail {
                out.push('-');
                out.push_str(t);
            }
            out
        }
        _ => format!("llama-{rest}"),
    }
}

/// Removes one trailing date: `-2024-08-06`, `-20240806`, `-0806`, `-09-2025`, `-03-25`.
fn strip_date(s: &str) -> String {
    let p: Vec<&str> = s.split('-').collect();
    let n = p.len();
    let num = |x: &str, len: usize| x.len() == len && x.chars().all(|c| c.is_ascii_digit());
    if n > 2 {
        let (a, b) = (p[n - 2], p[n - 1]);
        let month = |x: &str| num(x, 2) && (1..=12).contains(&x.parse::<u32>().unwrap_or(0));
        // -09-2025 (month-year) or -03-25 / -05-06 (month-day, or day-month).
        if (month(a) && num(b, 4)) || (num(a, 2) && num(b, 2) && (month(a) || month(b))) {
            return p[..n - 2].join("-");
        }
    }
    super::strip_date_suffix(s)
}

/// The spellings to look up, in order, after the raw id: the unwrapped id, then dates and
/// channel words removed one at a time; each also with dots for dashes and dashes for dots.
pub fn spellings(lower: &str) -> Vec<String> {
    let mut chain = vec![unwrap_vendor(lower)];
    while let Some(last) = chain.last().cloned() {
        let dated = strip_date(&last);
        let next = if dated != last {
            dated
        } else {
            match last.rsplit_once('-') {
                Some((base, word)) if NOISE.contains(&word) && !base.is_empty() => base.to_string(),
                _ => break,
            }
        };
        chain.push(next);
    }
    let mut out: Vec<String> = vec![];
    for s in chain {
        for v in [s.clone(), s.replace('.', "-"), dots_for_version_dashes(&s)] {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// `claude-3-5-sonnet` stays; `gemini-2-5-flash` -> `gemini-2.5-flash`, `gpt-4-1` ->
/// `gpt-4.1`: two one-digit parts in a row joined by a dot.
fn dots_for_version_dashes(s: &str) -> String {
    let p: Vec<&str> = s.split('-').collect();
    let one = |x: &str| x.len() == 1 && x.chars().all(|c| c.is_ascii_digit());
    let mut out = String::new();
    let mut i = 0;
    while i < p.len() {
        if !out.is_empty() {
            out.push('-');
        }
        if i + 1 < p.len() && one(p[i]) && one(p[i + 1]) {
            out.push_str(p[i]);
            out.push('.');
            out.push_str(p[i + 1]);
            i += 2;
        } else {
            out.push_str(p[i]);
            i += 1;
        }
    }
    out
}

/// A name's family: its words (parts that are neither version numbers nor sizes), its sizes
/// (`8b`, `8x7b`, `a22b`, `128e`) and its version numbers.
#[derive(Debug, PartialEq)]
struct Family<'a> {
    words: Vec<&'a str>,
    sizes: Vec<&'a str>,
    version: Vec<u32>,
}

fn family(name: &str) -> Family<'_> {
    let mut f = Family {
        words: vec![],
        sizes: vec![],
        version: vec![],
    };
    for p in parts(name) {
        if p.chars().all(|c| c.is_ascii_digit()) {
            f.version.push(p.parse().unwrap_or(0));
        } else if is_size(p) {
            f.sizes.push(p);
        } else if !NOISE.contains(&p) {
            f.words.push(p);
        }
    }
    f
}

/// `8b`, `70b`, `1.5b` (as parts: `5b`), `8x7b`, `a22b`, `128e`, `350m`.
fn is_size(p: &str) -> bool {
    let body = p.strip_prefix('a').unwrap_or(p);
    let Some(last) = body.chars().last() else {
        return false;
    };
    let digits = &body[..body.len() - last.len_utf8()];
    matches!(last, 'b' | 'e' | 'm')
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == 'x')
        && digits.starts_with(|c: char| c.is_ascii_digit())
}

/// The version as one number for distances: 3 -> 3.0, [2, 5] -> 2.5, [4, 5] -> 4.5, [3, 1] ->
/// 3.1 (a two-digit minor, 2507, is a date and was removed before).
fn version_number(v: &[u32]) -> Option<f64> {
    let major = *v.first()?;
    let minor = v.get(1).copied().unwrap_or(0);
    Some(f64::from(major) + f64::from(minor.min(99)) / if minor >= 10 { 100.0 } else { 10.0 })
}

/// The nearest sibling of `name` among the set's model keys.
fn sibling<'s>(set: &'s FactorSet, name: &str) -> Option<&'s ModelRow> {
    let want = family(name);
    if want.words.is_empty() {
        return None;
    }
    let target = version_number(&want.version);
    let mut best: Option<(f64, f64, &ModelRow)> = None;
    for m in set.models.values() {
        let key = m.model_key.to_lowercase();
        let f = family(&key);
        if f.words != want.words || f.sizes != want.sizes {
            continue;
        }
        let v = version_number(&f.version);
        let distance = match (target, v) {
            (Some(a), Some(b)) => (a - b).abs(),
            (None, None) => 0.0,
            // One has a version, the other not: a sibling, but the farthest kind.
            _ => 1000.0,
        };
        let later = v.unwrap_or(0.0);
        let better = match &best {
            None => true,
            Some((d, l, _)) => distance < *d || (distance == *d && later < *l),
        };
        if better {
            best = Some((distance, later, m));
        }
    }
    best.map(|(_, _, m)| m)
}

/// Whether a class pattern (`|`-separated, each a run of parts) names whole parts of `name`.
pub fn class_matches(pattern: &str, name: &str) -> Option<String> {
    let have = parts(name);
    pattern
        .split('|')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .find(|p| {
            let want = parts(p);
            !want.is_empty() && have.windows(want.len()).any(|w| w == want.as_slice())
        })
        .map(str::to_string)
}

/// Resolves `raw` with rules 2 (see the module documentation).
pub fn resolve(set: &FactorSet, raw: &str) -> ResolvedModel {
    let lower = raw.trim().to_lowercase();
    let mut steps = vec![];
    let found = |spelling: &str| -> Option<(&ModelRow, bool)> {
        if let Some(m) = set.models.get(spelling) {
            return Some((m, false));
        }
        let a = set.aliases.get(spelling)?;
        set.models
            .get(&a.model_key.to_lowercase())
            .map(|m| (m, true))
    };
    if let Some((m, alias)) = found(&lower) {
        let how = if alias {
            ModelMatch::Alias
        } else {
            ModelMatch::Exact
        };
        let mut r = set.resolved_as(m, how, &lower);
        r.steps.push(if alias {
            format!("'{lower}' is an alias of model '{}'", m.model_key)
        } else {
            format!("'{lower}' is a model key")
        });
        return r;
    }
    let forms = spellings(&lower);
    steps.push(format!(
        "'{lower}' is neither a model key nor an alias; spellings tried: {}",
        forms.join(", ")
    ));
    for form in &forms {
        if let Some((m, alias)) = found(form) {
            let mut r = set.resolved_as(m, ModelMatch::Normalised, form);
            steps.push(if alias {
                format!(
                    "normalised to '{form}', an alias of model '{}'",
                    m.model_key
                )
            } else {
                format!("normalised to '{form}', a model key")
            });
            r.steps = steps;
            return r;
        }
    }
    // The most normalised spelling names the family.
    let name = last_chain_form(&lower);
    if let Some(m) = sibling(set, &name) {
        let mut r = set.resolved_as(m, ModelMatch::Sibling(m.model_key.clone()), &name);
        steps.push(format!(
            "'{name}' is not in the set: its nearest sibling (same family words and size, nearest version) is '{}'",
            m.model_key
        ));
        r.steps = steps;
        return r;
    }
    let class = set
        .classes
        .iter()
        .filter(|c| !c.matches.trim().is_empty())
        .find_map(|c| class_matches(&c.matches, &name).map(|p| (c, Some(p))))
        .or_else(|| {
            set.classes
                .iter()
                .find(|c| c.matches.trim().is_empty())
                .map(|c| (c, None))
        });
    let Some((c, pattern)) = class else {
        return super::unreachable_class();
    };
    steps.push(match pattern {
        Some(p) => format!(
            "'{name}' has no sibling in the set: size class '{}' (its name part '{p}')",
            c.class
        ),
        None => format!(
            "'{name}' has no sibling in the set and names no class: default class '{}'",
            c.class
        ),
    });
    ResolvedModel {
        key: format!("class:{}", c.class),
        how: ModelMatch::Class(c.class.clone()),
        kind: c.kind.clone(),
        active: (c.active_params_b_min, c.active_params_b_max),
        total: (c.total_params_b_min, c.total_params_b_max),
        source_id: c.source_id.clone(),
        spelling: name,
        steps,
    }
}

/// The end of the spelling chain (dates and channel words removed), dots kept.
fn last_chain_form(lower: &str) -> String {
    let mut s = unwrap_vendor(lower);
    loop {
        let dated = strip_date(&s);
        if dated != s {
            s = dated;
            continue;
        }
        match s.rsplit_once('-') {
            Some((base, word)) if NOISE.contains(&word) && !base.is_empty() => s = base.to_string(),
            _ => break,
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_the_billing_joined_are_split_only_when_both_are_words() {
        assert_eq!(joined_words("nova2.0lite"), "nova-2.0-lite");
        assert_eq!(joined_words("nova2pro"), "nova-2-pro");
        for same in [
            "o4mini",
            "gpt4o",
            "gpt-4o-mini",
            "nova-lite",
            "claude3",
            "llama3.",
            "qwen3-32b",
        ] {
            assert_eq!(joined_words(same), same);
        }
    }

    #[test]
    fn vendor_wrappers_are_removed() {
        assert_eq!(
            unwrap_vendor("meta.llama3-1-8b-instruct-v1:0"),
            "llama-3.1-8b-instruct"
        );
        assert_eq!(
            unwrap_vendor("meta.llama3-8b-instruct-v1:0"),
            "llama-3-8b-instruct"
        );
        assert_eq!(
            unwrap_vendor("jp.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "claude-sonnet-4-5-20250929"
        );
        assert_eq!(
            unwrap_vendor("us-gov.anthropic.claude-3-haiku-20240307-v1:0"),
            "claude-3-haiku-20240307"
        );
        assert_eq!(
            unwrap_vendor("anthropic.claude-3-sonnet-20240229-v1:0:200k"),
            "claude-3-sonnet-20240229"
        );
        assert_eq!(unwrap_vendor("openai.gpt-oss-120b-1:0"), "gpt-oss-120b");
        assert_eq!(
            unwrap_vendor("mistral.mistral-7b-instruct-v0:2"),
            "mistral-7b-instruct"
        );
        assert_eq!(
            unwrap_vendor("publishers/google/models/gemini-2.0-flash-001"),
            "gemini-2.0-flash-001"
        );
        assert_eq!(
            unwrap_vendor("claude-3-5-sonnet-v2@20241022"),
            "claude-3-5-sonnet"
        );
        assert_eq!(
            unwrap_vendor("meta-llama-3.1-8b-instruct"),
            "llama-3.1-8b-instruct"
        );
    }

    #[test]
    fn dates_and_channels_are_removed_one_at_a_time() {
        let s = spellings("gemini-2.5-flash-preview-09-2025");
        assert!(s.contains(&"gemini-2.5-flash".to_string()), "{s:?}");
        let s = spellings("gemini-2.5-pro-exp-03-25");
        assert!(s.contains(&"gemini-2.5-pro".to_string()), "{s:?}");
        let s = spellings("chatgpt-4o-latest");
        assert!(s.contains(&"chatgpt-4o".to_string()), "{s:?}");
        // A version is no date: claude-sonnet-4-5 keeps its 4-5.
        assert_eq!(strip_date("claude-sonnet-4-5"), "claude-sonnet-4-5");
        assert_eq!(strip_date("command-a-03-2025"), "command-a");
    }

    #[test]
    fn classes_match_whole_parts_never_substrings() {
        assert_eq!(class_matches("pro|large", "o1-pro"), Some("pro".into()));
        assert_eq!(class_matches("pro", "gemini-2.5-flash-prompt"), None);
        assert_eq!(class_matches("mini", "gemini-2.0-flash"), None);
        assert_eq!(
            class_matches("text-embedding", "text-embedding-004"),
            Some("text-embedding".into())
        );
        assert_eq!(
            class_matches("embed", "titan-embed-text"),
            Some("embed".into())
        );
        assert_eq!(class_matches("embed", "embedding"), None);
    }

    #[test]
    fn families_split_words_sizes_and_versions() {
        let f = family("llama-3.2-11b-instruct");
        assert_eq!(f.words, vec!["llama"]);
        assert_eq!(f.sizes, vec!["11b"]);
        assert_eq!(f.version, vec![3, 2]);
        let f = family("qwen3-235b-a22b");
        assert_eq!(f.words, vec!["qwen3"]);
        assert_eq!(f.sizes, vec!["235b", "a22b"]);
        assert_eq!(version_number(&[2, 5]), Some(2.5));
        assert_eq!(version_number(&[4]), Some(4.0));
    }
}
