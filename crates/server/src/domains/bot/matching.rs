//! Flexible template names for bot commands: case, spaces, `-` and `_` are ignored, a unique
//! prefix is accepted, and otherwise the closest names by edit distance are suggested.

/// A template as the bot knows it: the slug (the command) and the display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Found(Candidate),
    /// Nothing matched as typed; these are the closest (best first, possibly empty).
    Suggestions(Vec<Candidate>),
}

/// Lower case with spaces, `-` and `_` removed.
pub fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Levenshtein distance over chars (names are short; O(n·m) with one row).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

/// How many suggestions a "did you mean" lists.
pub const MAX_SUGGESTIONS: usize = 3;

pub fn find(query: &str, candidates: &[Candidate]) -> Match {
    let q = normalize(query);
    if q.is_empty() {
        return Match::Suggestions(Vec::new());
    }
    let keys = |c: &Candidate| [normalize(&c.slug), normalize(&c.name)];
    if let Some(exact) = candidates.iter().find(|c| keys(c).contains(&q)) {
        return Match::Found(exact.clone());
    }
    let prefixed: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| keys(c).iter().any(|k| k.starts_with(&q)))
        .collect();
    if let [only] = prefixed.as_slice() {
        return Match::Found((*only).clone());
    }
    if !prefixed.is_empty() {
        return Match::Suggestions(
            prefixed
                .into_iter()
                .take(MAX_SUGGESTIONS)
                .cloned()
                .collect(),
        );
    }
    // Close enough to be a typo: at most a third of the longer name, at least 2 edits.
    let mut scored: Vec<(usize, &Candidate)> = candidates
        .iter()
        .filter_map(|c| {
            let best = keys(c)
                .iter()
                .map(|k| {
                    let distance = edit_distance(&q, k);
                    let budget = (q.chars().count().max(k.chars().count()) / 3).max(2);
                    (distance, budget)
                })
                .filter(|(distance, budget)| distance <= budget)
                .map(|(distance, _)| distance)
                .min()?;
            Some((best, c))
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.slug.cmp(&b.1.slug)));
    Match::Suggestions(
        scored
            .into_iter()
            .take(MAX_SUGGESTIONS)
            .map(|(_, c)| c.clone())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates() -> Vec<Candidate> {
        [
            ("black-friday", "Black Friday"),
            ("blue-monday", "Blue Monday"),
            ("summer-sale", "Summer Sale"),
            ("gold_rush", "Gold Rush"),
        ]
        .into_iter()
        .map(|(slug, name)| Candidate {
            slug: slug.into(),
            name: name.into(),
        })
        .collect()
    }

    fn found(query: &str) -> Option<String> {
        match find(query, &candidates()) {
            Match::Found(c) => Some(c.slug),
            Match::Suggestions(_) => None,
        }
    }

    fn suggested(query: &str) -> Vec<String> {
        match find(query, &candidates()) {
            Match::Found(c) => panic!("{query} matched {}", c.slug),
            Match::Suggestions(s) => s.into_iter().map(|c| c.slug).collect(),
        }
    }

    #[test]
    fn case_spaces_dashes_underscores_are_ignored() {
        for query in [
            "black-friday",
            "BLACK_FRIDAY",
            "Black Friday",
            "blackfriday",
            "GoldRush",
            "gold-rush",
        ] {
            assert!(found(query).is_some(), "{query}");
        }
        assert_eq!(found("gold-rush").as_deref(), Some("gold_rush"));
    }

    #[test]
    fn unique_prefix_is_accepted_ambiguous_one_is_suggested() {
        assert_eq!(found("summ").as_deref(), Some("summer-sale"));
        assert_eq!(found("blac").as_deref(), Some("black-friday"));
        assert_eq!(suggested("bl"), ["black-friday", "blue-monday"]);
    }

    #[test]
    fn typos_get_did_you_mean_and_nonsense_gets_nothing() {
        assert_eq!(suggested("blakfriday"), ["black-friday"]);
        assert_eq!(suggested("sumer-sael"), ["summer-sale"]);
        assert!(suggested("zzzzzzzz").is_empty());
        assert!(suggested("").is_empty());
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("ü", "u"), 1);
    }
}
