//! "Did you mean …?" suggestions for misspelt names.

/// The candidate closest to `word` by edit distance, when it is close enough to be a
/// plausible typo (at most a third of the word's length, and at least one edit allowed);
/// of equally close ones, the first in sort order.
///
/// # Guarantees
/// A candidate is abandoned as soon as it cannot beat the closest one so far (its length
/// differs by more, or a row of the distance table exceeds it), and no candidate allocates:
/// a "did you mean" over every partner of a large roster stays a fraction of a second.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word: Vec<char> = word.chars().collect();
    let limit = (word.len() / 3).max(1);
    let mut table = Table::default();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let bound = best.map_or(limit, |(distance, _)| distance);
        let Some(distance) = table.bounded_distance(&word, candidate, bound) else {
            continue;
        };
        if best.is_none_or(|(closest, name)| (distance, candidate) < (closest, name)) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// `hint` text for a suggestion, or `None`.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(word, candidates).map(|candidate| format!("did you mean `{candidate}`?"))
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    Table::default()
        .bounded_distance(&a, b, usize::MAX)
        .unwrap_or(usize::MAX)
}

/// The rows of a distance table and the candidate's characters, kept between candidates.
#[derive(Default)]
struct Table {
    candidate: Vec<char>,
    previous: Vec<usize>,
    current: Vec<usize>,
}

impl Table {
    /// The Levenshtein distance of `word` and `candidate` when at most `bound`.
    fn bounded_distance(&mut self, word: &[char], candidate: &str, bound: usize) -> Option<usize> {
        self.candidate.clear();
        self.candidate.extend(candidate.chars());
        let (n, m) = (word.len(), self.candidate.len());
        if n.abs_diff(m) > bound {
            return None;
        }
        self.previous.clear();
        self.previous.extend(0..=m);
        self.current.clear();
        self.current.resize(m + 1, 0);
        for (i, &ca) in word.iter().enumerate() {
            self.current[0] = i + 1;
            let mut row_min = self.current[0];
            for (j, &cb) in self.candidate.iter().enumerate() {
                let substitution = self.previous[j] + usize::from(ca != cb);
                let cell = substitution
                    .min(self.previous[j + 1] + 1)
                    .min(self.current[j] + 1);
                self.current[j + 1] = cell;
                row_min = row_min.min(cell);
            }
            // Every later row is at least this row's minimum.
            if row_min > bound {
                return None;
            }
            std::mem::swap(&mut self.previous, &mut self.current);
        }
        Some(self.previous[m]).filter(|distance| *distance <= bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(closest("viwer", ["viewer", "editor"]), Some("viewer"));
        assert_eq!(closest("membres", ["members", "name"]), Some("members"));
        assert_eq!(closest("zzzzzz", ["viewer", "editor"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    /// The bounded search finds what the whole table finds: the closest within the limit,
    /// the first in sort order of equally close ones.
    #[test]
    fn the_bounded_search_agrees_with_the_whole_table() {
        let naive = |word: &str, candidates: &[&'static str]| {
            let limit = (word.chars().count() / 3).max(1);
            candidates
                .iter()
                .map(|candidate| (edit_distance(word, candidate), *candidate))
                .filter(|(distance, _)| *distance <= limit)
                .min()
                .map(|(_, candidate)| candidate)
        };
        let candidates = [
            "alice@globex.com",
            "alicia@globex.com",
            "alice@globex.co",
            "bob@globex.com",
            "bobby@initech.com",
            "ålice@globex.com",
            "",
        ];
        for word in [
            "alice@globex.com",
            "alise@globex.com",
            "alice@globx.com",
            "bob@globex.co",
            "bobi@initech.com",
            "zed@nowhere.org",
            "ålise@globex.com",
            "a",
            "",
        ] {
            assert_eq!(closest(word, candidates), naive(word, &candidates), "{word}");
        }
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("naïve", "naive"), 1);
    }

    proptest::proptest! {
        /// On random words, the bounded search returns what scanning the whole table returns.
        #[test]
        fn the_bounded_search_agrees_on_random_words(
            word in "[ab.@é]{0,12}",
            candidates in proptest::collection::vec("[ab.@é]{0,12}", 0..20),
        ) {
            let limit = (word.chars().count() / 3).max(1);
            let naive = candidates
                .iter()
                .map(|candidate| (edit_distance(&word, candidate), candidate.as_str()))
                .filter(|(distance, _)| *distance <= limit)
                .min()
                .map(|(_, candidate)| candidate);
            proptest::prop_assert_eq!(closest(&word, candidates.iter().map(String::as_str)), naive);
        }
    }
}
