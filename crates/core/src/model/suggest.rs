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
    let mut letters = word.is_ascii().then(|| Letters::of(word));
    let word: Vec<char> = word.chars().collect();
    let limit = (word.len() / 3).max(1);
    let mut table = Table::default();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let bound = best.map_or(limit, |(distance, _)| distance);
        if let Some(letters) = &mut letters
            && letters.surely_farther(candidate, bound)
        {
            continue;
        }
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

/// How often each byte occurs in an ASCII word, for a bound cheaper than the table: each
/// letter one word has and the other lacks (counted with repeats) takes an edit, so the
/// larger of the two counts is at most the edit distance.
struct Letters {
    /// The word's count of each byte, less the candidate's while one is being compared.
    counts: [i32; 128],
    len: usize,
}

impl Letters {
    fn of(word: &str) -> Self {
        let mut counts = [0; 128];
        for byte in word.bytes() {
            counts[usize::from(byte)] += 1;
        }
        Self {
            counts,
            len: word.len(),
        }
    }

    /// Whether `candidate` is surely more than `bound` edits away (an ASCII candidate whose
    /// letters differ by more); `false` says nothing.
    fn surely_farther(&mut self, candidate: &str, bound: usize) -> bool {
        if !candidate.is_ascii() {
            return false;
        }
        let mut matched = 0;
        for byte in candidate.bytes() {
            let count = &mut self.counts[usize::from(byte)];
            if *count > 0 {
                matched += 1;
            }
            *count -= 1;
        }
        for byte in candidate.bytes() {
            self.counts[usize::from(byte)] += 1;
        }
        let (missing, extra) = (self.len - matched, candidate.len() - matched);
        missing.max(extra) > bound
    }
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

    /// The closest candidate within the limit by the whole distance table of each.
    fn closest_by_whole_tables<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
        let limit = (word.chars().count() / 3).max(1);
        candidates
            .iter()
            .map(|candidate| (edit_distance(word, candidate), candidate.as_str()))
            .filter(|(distance, _)| *distance <= limit)
            .min()
            .map(|(_, candidate)| candidate)
    }

    proptest::proptest! {
        /// On random words, the bounded search returns what scanning the whole table returns.
        #[test]
        fn the_bounded_search_agrees_on_random_words(
            word in "[ab.@é]{0,12}",
            candidates in proptest::collection::vec("[ab.@é]{0,12}", 0..20),
        ) {
            proptest::prop_assert_eq!(
                closest(&word, candidates.iter().map(String::as_str)),
                closest_by_whole_tables(&word, &candidates)
            );
        }

        /// The same on ASCII words of more letters, where the letter-count bound prunes.
        #[test]
        fn the_letter_bound_prunes_only_what_is_farther(
            word in "[a-f0-2.@]{0,16}",
            candidates in proptest::collection::vec("[a-f0-2.@]{0,16}", 0..30),
        ) {
            proptest::prop_assert_eq!(
                closest(&word, candidates.iter().map(String::as_str)),
                closest_by_whole_tables(&word, &candidates)
            );
        }
    }
}
