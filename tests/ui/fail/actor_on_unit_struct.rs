use streamlib::prelude::*;

#[actor]
pub struct Ticker;

fn main() {}
