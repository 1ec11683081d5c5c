//! Calendar dates (`YYYY-MM-DD`, UTC) used for `expires`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

const FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// A day in the proleptic Gregorian calendar, written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarDate(time::Date);

impl CalendarDate {
    pub fn new(date: time::Date) -> Self {
        Self(date)
    }

    pub fn from_ymd(year: i32, month: u8, day: u8) -> Option<Self> {
        let month = time::Month::try_from(month).ok()?;
        time::Date::from_calendar_date(year, month, day).ok().map(Self)
    }

    /// Days from `self` until `other` (negative when `other` is earlier).
    pub fn days_until(self, other: CalendarDate) -> i64 {
        (other.0 - self.0).whole_days()
    }

    pub fn inner(self) -> time::Date {
        self.0
    }
}

impl FromStr for CalendarDate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != 10 {
            return Err(format!("`{text}` is not a date: expected `YYYY-MM-DD`"));
        }
        time::Date::parse(text, FORMAT)
            .map(Self)
            .map_err(|_| format!("`{text}` is not a date: expected `YYYY-MM-DD`"))
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.format(FORMAT).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for CalendarDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CalendarDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for CalendarDate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CalendarDate".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            "description": "A calendar date, YYYY-MM-DD (UTC)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let date: CalendarDate = "2027-03-31".parse().unwrap();
        assert_eq!(date.to_string(), "2027-03-31");
    }

    #[test]
    fn rejects_impossible_dates() {
        for bad in ["2027-02-30", "2027-3-31", "31.03.2027", "", "2027-03-31T00:00"] {
            assert!(bad.parse::<CalendarDate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn counts_days() {
        let a = CalendarDate::from_ymd(2026, 11, 26).unwrap();
        let b = CalendarDate::from_ymd(2026, 12, 10).unwrap();
        assert_eq!(a.days_until(b), 14);
        assert_eq!(b.days_until(a), -14);
    }
}
