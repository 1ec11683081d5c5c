//! Mapping over independent files on every core, keeping the input order so results
//! (and the diagnostics built from them) do not depend on timing.

/// Threads to spread work over: the cores, at most four.
fn workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(4)
}

/// `items.iter().map(f)`, in order, spread over up to four threads.
pub fn map_in_order<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = workers();
    if workers < 2 || items.len() < 2 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(workers);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("workers do not panic"))
            .collect()
    })
}

/// Maps every item with `map` on up to four threads and hands each result to `consume`
/// in input order, while later items are still being mapped. Results wait for `consume`
/// in a channel of `window` places (plus those that finished ahead of an earlier, slower
/// item), so memory follows the window, not the input. `map` takes each item by value
/// from its slot.
pub fn for_each_in_order<T: Send, R: Send>(
    items: Vec<T>,
    window: usize,
    map: impl Fn(T) -> R + Sync,
    mut consume: impl FnMut(R),
) {
    let workers = workers();
    if workers < 2 || items.len() < 2 {
        items.into_iter().map(map).for_each(consume);
        return;
    }
    let slots: Vec<std::sync::Mutex<Option<T>>> = items
        .into_iter()
        .map(|item| std::sync::Mutex::new(Some(item)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (sender, receiver) = std::sync::mpsc::sync_channel::<(usize, R)>(window.max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (sender, slots, next, map) = (sender.clone(), &slots, &next, &map);
            scope.spawn(move || {
                loop {
                    let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(slot) = slots.get(at) else { break };
                    let item = slot
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .take()
                        .expect("each slot is taken once");
                    if sender.send((at, map(item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut ahead = std::collections::BTreeMap::new();
        let mut wanted = 0;
        for (at, result) in receiver {
            ahead.insert(at, result);
            while let Some(result) = ahead.remove(&wanted) {
                consume(result);
                wanted += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_input_order() {
        let items: Vec<u32> = (0..1000).collect();
        assert_eq!(
            super::map_in_order(&items, |x| x * 2),
            items.iter().map(|x| x * 2).collect::<Vec<_>>()
        );
    }

    #[test]
    fn streams_results_in_the_input_order() {
        let items: Vec<u64> = (0..2000).collect();
        let mut seen = Vec::new();
        super::for_each_in_order(
            items.clone(),
            4,
            // Uneven work, so workers finish out of order.
            |x| {
                if x % 7 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
                x * 3
            },
            |result| seen.push(result),
        );
        assert_eq!(seen, items.iter().map(|x| x * 3).collect::<Vec<_>>());
        let mut none = Vec::new();
        super::for_each_in_order(Vec::<u64>::new(), 4, |x| x, |x| none.push(x));
        assert!(none.is_empty());
    }
}
