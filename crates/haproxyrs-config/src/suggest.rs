//! "Did you mean" suggestions: the closest known word to a misspelt one, by edit distance
//! (insertions, deletions, substitutions and adjacent transpositions, each costing 1).
//!
//! Used for unknown keywords, options and server/bind options. A suggestion is only made
//! when the candidate is close enough to be a plausible typo, never for unrelated words.

/// The candidate closest to `word`, if one is within a typo's reach of it.
///
/// The allowed distance grows with the word's length (1 for short words, up to a third of
/// the length), so `tiemout` suggests `timeout` but `foo` suggests nothing.
pub fn best_match<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let word_len = word.chars().count();
    if word_len == 0 {
        return None;
    }
    let max = (word_len / 3).clamp(1, 4);
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        if cand == word {
            continue;
        }
        let d = distance(word, cand);
        let better = match best {
            None => true,
            Some((bd, _)) => d < bd,
        };
        if d <= max && better {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal string alignment distance between `a` and `b` (Damerau-Levenshtein restricted
/// to adjacent transpositions), compared case-insensitively.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > 8 {
        return n.abs_diff(m);
    }
    // Three rolling rows: i-2, i-1, i.
    let mut prev2 = vec![0usize; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0usize; m + 1];
    for i in 1..=n {
        cur[0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("timeout", "timeout"), 0);
        assert_eq!(distance("tiemout", "timeout"), 1);
        assert_eq!(distance("forwardfo", "forwardfor"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_close_words_only() {
        let kws = ["timeout", "bind", "server", "balance"];
        assert_eq!(best_match("tiemout", kws), Some("timeout"));
        assert_eq!(best_match("sever", kws), Some("server"));
        assert_eq!(best_match("foo", kws), None);
        assert_eq!(best_match("", kws), None);
        assert_eq!(best_match("bind", kws), None);
    }
}
