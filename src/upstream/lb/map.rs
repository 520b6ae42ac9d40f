//! HAProxy's map-based server table (`hash-type map-based`).
//!
//! Owns: the effective weights (user weights divided by their GCD) and the
//! table order HAProxy builds: for each slot every eligible server adds its
//! effective weight to a running score, the first server with the highest
//! `(score + total) / total` wins the slot and pays `total`. A hash picks
//! `table[hash % total]`. Must not look at server state itself: callers
//! pass which servers are eligible.

/// Effective weights for the map: each user weight divided by the GCD of
/// all non-zero weights, rounded up (zero stays zero).
pub fn effective_weights(weights: &[u32]) -> Vec<u32> {
    let mut g = 0u32;
    for &w in weights.iter().filter(|&&w| w > 0) {
        g = if g == 0 { w } else { gcd(g, w) };
    }
    let g = g.max(1);
    weights.iter().map(|&w| w.div_ceil(g)).collect()
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Builds the table over the servers whose `eligible` flag is set, in
/// declaration order. Returns indexes into `eweights`.
pub fn build(eweights: &[u32], eligible: &[bool]) -> Vec<usize> {
    let members: Vec<usize> = (0..eweights.len())
        .filter(|&i| eligible.get(i).copied().unwrap_or(false) && eweights[i] > 0)
        .collect();
    let tot: i64 = members.iter().map(|&i| i64::from(eweights[i])).sum();
    if tot <= 0 || members.is_empty() {
        return Vec::new();
    }
    if tot == 1 {
        return vec![members[0]];
    }
    let mut score = vec![0i64; eweights.len()];
    let mut out = Vec::with_capacity(tot as usize);
    for _ in 0..tot {
        let mut best: Option<usize> = None;
        let mut max = 0i64;
        for &i in &members {
            score[i] += i64::from(eweights[i]);
            let v = (score[i] + tot) / tot;
            if best.is_none() || v > max {
                max = v;
                best = Some(i);
            }
        }
        if let Some(b) = best {
            score[b] -= tot;
            out.push(b);
        }
    }
    out
}
