//! The genlock phase-locked loop: rate detection, a PI loop on phase and frequency, lock state.
//!
//! Pure logic on monotonic nanoseconds (no threads, no clock reads), so every behaviour is tested
//! with synthetic pulse trains.
//!
//! - **Detection** (Unlocked): the last `detect_pulses` pulse times are fitted to a straight
//!   line `t = a + k × period` by least squares, pulse indices assigned from the median interval
//!   (so a few missing pulses do not matter). The fit is accepted when every residual is under a
//!   quarter period; the period is then snapped to the nearest standard video/audio rate within
//!   400 ppm or three standard errors of the fit (`reference_rate`), or else taken as measured.
//! - **Loop**: each pulse's phase error `e` (pulse time − predicted time, unwrapped to the
//!   nearest pulse so drop-outs count as missed pulses) corrects the prediction by `α·e` and the
//!   period by `β·e` — a type-II loop, so a frequency offset leaves no steady phase error. While
//!   Locking the gains are wide (α = 0.3, β = 0.0225: converges in ~10 pulses); once Locked they
//!   narrow (α = 0.08, β = 0.0016: time constant ~30 pulses) to smooth the reference's jitter.
//! - **Lock**: Locked after `lock_pulses` consecutive pulses whose filtered phase error (an
//!   exponential average over ~8 pulses) is within the tolerance; back to Locking when it
//!   exceeds 3 × the tolerance. A pulse more than a quarter period off is an outlier and does not
//!   move the loop; when outliers dominate (4 in a row, or a reference of another rate) the
//!   reference changed: Unlocked, detect again. While locked the rate is named again every 64
//!   pulses from a least-squares fit over the last 256.
//! - **Holdover**: no pulse for `holdover_after_pulses` periods: the model is frozen and
//!   extrapolated (free-run at the last period). A pulse back within a quarter period of the
//!   extrapolation resumes Locking on the same frame grid; farther off, detection starts over.

use std::collections::VecDeque;
use std::time::Duration;

use crate::clock::Rate;

/// Loop gains while acquiring: fast pull-in.
const LOCKING_GAINS: (f64, f64) = (0.3, 0.0225);
/// Loop gains once locked: narrow bandwidth, smooths jitter.
const LOCKED_GAINS: (f64, f64) = (0.08, 0.0016);
/// Weight of a new phase error in the filtered phase error.
const FILTER_WEIGHT: f64 = 0.125;
/// Weight of each pulse in the running outlier rate.
const OUTLIER_WEIGHT: f64 = 0.125;
/// An outlier rate above this means the reference changed (4 outliers in a row reach it, so
/// does a reference of another rate, half of whose pulses miss the model).
const OUTLIER_RATE_TO_UNLOCK: f64 = 0.4;
/// Reference periods accepted by detection: 20 kHz down to 0.1 Hz.
const MIN_PERIOD_NS: f64 = 50_000.0;
const MAX_PERIOD_NS: f64 = 10_000_000_000.0;
/// Largest pulse history kept for detection.
const MAX_HISTORY: usize = 64;
/// Snap to a standard rate within this relative distance.
const SNAP_TOLERANCE: f64 = 400e-6;
/// Accepted pulses kept for the long-term frequency measurement.
const FREQUENCY_WINDOW: usize = 256;

/// Standard frame and pulse rates a reference is recognised as.
const STANDARD_RATES: [(u32, u32); 17] = [
    (1, 1),
    (10, 1),
    (24000, 1001),
    (24, 1),
    (25, 1),
    (30000, 1001),
    (30, 1),
    (48000, 1001),
    (48, 1),
    (50, 1),
    (60000, 1001),
    (60, 1),
    (100, 1),
    (120000, 1001),
    (120, 1),
    (240, 1),
    (1000, 1),
];

/// Lock state of a [`GenlockClock`](super::GenlockClock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GenlockState {
    /// No reference rate known yet (or the reference changed): collecting pulses to detect it.
    /// Ticks free-run: at the configured rate before any reference was seen, on the last model
    /// of the reference after it changed.
    Unlocked,
    /// Rate detected, the loop is pulling in phase and frequency.
    Locking,
    /// Following the reference within the lock tolerance.
    Locked,
    /// The reference disappeared: free-running on the last phase and period.
    Holdover,
}

impl std::fmt::Display for GenlockState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GenlockState::Unlocked => "unlocked",
            GenlockState::Locking => "locking",
            GenlockState::Locked => "locked",
            GenlockState::Holdover => "holdover",
        })
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) struct PllConfig {
    pub(super) detect_pulses: u32,
    pub(super) lock_pulses: u32,
    /// `None`: 2 % of the reference period.
    pub(super) lock_tolerance: Option<Duration>,
    pub(super) holdover_after_pulses: u32,
}

/// The loop's prediction of the reference: pulse `next_index` is due at `next_pulse`, and every
/// `period` nanoseconds after. `generation` changes whenever the pulse numbering starts over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Model {
    pub(super) generation: u64,
    pub(super) next_pulse: i64,
    pub(super) next_index: i64,
    pub(super) period: f64,
    pub(super) reference_rate: Rate,
}

impl Model {
    /// When pulse position `whole + fraction` is due.
    pub(super) fn time_of(&self, whole: i64, fraction: f64) -> f64 {
        self.next_pulse as f64 + ((whole - self.next_index) as f64 + fraction) * self.period
    }

    /// The fractional pulse position at time `t`.
    pub(super) fn position_at(&self, t: i64) -> f64 {
        self.next_index as f64 + (t - self.next_pulse) as f64 / self.period
    }
}

/// A state change, for logging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Transition {
    pub(super) from: GenlockState,
    pub(super) to: GenlockState,
}

#[derive(Debug)]
pub(super) struct Pll {
    config: PllConfig,
    state: GenlockState,
    history: Vec<i64>,
    model: Option<Model>,
    generation: u64,
    filtered_error: f64,
    mean_square_error: f64,
    in_tolerance: u32,
    outlier_rate: f64,
    last_pulse: Option<i64>,
    /// Accepted pulses of the current numbering, `(index, time)`, for [`Pll::measured_period`].
    recent: VecDeque<(i64, i64)>,
    pub(super) pulses: u64,
    pub(super) missed: u64,
    pub(super) outliers: u64,
}

impl Pll {
    pub(super) fn new(config: PllConfig) -> Pll {
        Pll {
            config,
            state: GenlockState::Unlocked,
            history: Vec::new(),
            model: None,
            generation: 0,
            filtered_error: 0.0,
            mean_square_error: 0.0,
            in_tolerance: 0,
            outlier_rate: 0.0,
            last_pulse: None,
            recent: VecDeque::new(),
            pulses: 0,
            missed: 0,
            outliers: 0,
        }
    }

    pub(super) fn state(&self) -> GenlockState {
        self.state
    }

    pub(super) fn model(&self) -> Option<Model> {
        self.model
    }

    pub(super) fn last_pulse(&self) -> Option<i64> {
        self.last_pulse
    }

    /// The filtered phase error (pulse − prediction), in nanoseconds.
    pub(super) fn phase_error(&self) -> Option<f64> {
        self.model.map(|_| self.filtered_error)
    }

    /// The reference period measured over the last (up to) 256 accepted pulses by least squares:
    /// far steadier than the loop's own period, which moves with every pulse's jitter.
    pub(super) fn measured_period(&self) -> Option<f64> {
        self.measurement().map(|(period, _)| period)
    }

    /// [`measured_period`](Self::measured_period) and its standard error.
    fn measurement(&self) -> Option<(f64, f64)> {
        let model = self.model?;
        if self.recent.len() < 8 {
            return Some((model.period, model.period));
        }
        let (first_index, first_time) = self.recent[0];
        let n = self.recent.len() as f64;
        let points = || {
            self.recent
                .iter()
                .map(move |&(i, t)| ((i - first_index) as f64, (t - first_time) as f64))
        };
        let mean_x = points().map(|(x, _)| x).sum::<f64>() / n;
        let mean_y = points().map(|(_, y)| y).sum::<f64>() / n;
        let sxx: f64 = points().map(|(x, _)| (x - mean_x).powi(2)).sum();
        let sxy: f64 = points().map(|(x, y)| (x - mean_x) * (y - mean_y)).sum();
        if sxx <= 0.0 {
            return Some((model.period, model.period));
        }
        let slope = sxy / sxx;
        let intercept = mean_y - slope * mean_x;
        let residuals: f64 = points()
            .map(|(x, y)| (y - intercept - slope * x).powi(2))
            .sum();
        Some((slope, (residuals / (n - 2.0) / sxx).sqrt()))
    }

    /// The RMS of the raw phase errors: the reference's jitter as the loop sees it.
    pub(super) fn jitter(&self) -> Option<f64> {
        self.model.map(|_| self.mean_square_error.sqrt())
    }

    fn tolerance(&self, period: f64) -> f64 {
        match self.config.lock_tolerance {
            Some(tolerance) => tolerance.as_nanos() as f64,
            None => 0.02 * period,
        }
    }

    fn go(&mut self, to: GenlockState) -> Option<Transition> {
        let from = self.state;
        self.in_tolerance = 0;
        if from == to {
            return None;
        }
        self.state = to;
        Some(Transition { from, to })
    }

    /// A reference pulse at `t` (monotonic nanoseconds).
    pub(super) fn on_pulse(&mut self, t: i64) -> Option<Transition> {
        self.pulses += 1;
        if let Some(last) = self.last_pulse {
            if t <= last {
                // Out of order or duplicated: not a new pulse.
                self.outliers += 1;
                return None;
            }
        }
        self.last_pulse = Some(t);
        match self.model {
            None => self.detect(t),
            Some(model) => self.track(model, t),
        }
    }

    /// No pulse came; checks whether the reference has disappeared at `now`.
    pub(super) fn on_silence(&mut self, now: i64) -> Option<Transition> {
        let model = self.model?;
        let last = self.last_pulse?;
        let limit = model.period * f64::from(self.config.holdover_after_pulses.max(1));
        match self.state {
            GenlockState::Locking | GenlockState::Locked if (now - last) as f64 > limit => {
                self.go(GenlockState::Holdover)
            }
            _ => None,
        }
    }

    fn detect(&mut self, t: i64) -> Option<Transition> {
        self.history.push(t);
        if self.history.len() > MAX_HISTORY {
            self.history.remove(0);
        }
        let wanted = self.config.detect_pulses.max(3) as usize;
        if self.history.len() < wanted {
            return None;
        }
        let window = &self.history[self.history.len() - wanted..];
        let Some(fit) = fit_line(window) else {
            // Inconsistent window: forget the oldest pulses and keep collecting.
            let keep = wanted / 2;
            let drop = self.history.len() - keep;
            self.history.drain(..drop);
            return None;
        };
        self.history.clear();
        self.recent.clear();
        self.generation += 1;
        let reference_rate = snap_rate(fit.period, fit.period_error);
        self.model = Some(Model {
            generation: self.generation,
            next_pulse: (fit.last_time + fit.period).round() as i64,
            next_index: 1,
            period: fit.period,
            reference_rate,
        });
        self.filtered_error = 0.0;
        self.mean_square_error = fit.mean_square_residual;
        self.outlier_rate = 0.0;
        self.go(GenlockState::Locking)
    }

    fn track(&mut self, mut model: Model, t: i64) -> Option<Transition> {
        let raw = (t - model.next_pulse) as f64;
        let skipped = (raw / model.period).round();
        if skipped < 0.0 {
            // Earlier than the pulse just handled could be: a glitch.
            self.outliers += 1;
            return None;
        }
        // Drop-outs: the pulses in between never came.
        let skipped_pulses = skipped as i64;
        model.next_pulse += (skipped * model.period).round() as i64;
        model.next_index += skipped_pulses;
        let error = raw - skipped * model.period;
        let was_holdover = self.state == GenlockState::Holdover;
        if !was_holdover {
            self.missed += skipped_pulses as u64;
        }
        if error.abs() > model.period / 4.0 {
            self.outliers += 1;
            self.outlier_rate += OUTLIER_WEIGHT * (1.0 - self.outlier_rate);
            if was_holdover || self.outlier_rate > OUTLIER_RATE_TO_UNLOCK {
                // The reference moved: start over (the frame grid re-anchors).
                self.model = None;
                self.history.clear();
                self.history.push(t);
                self.outlier_rate = 0.0;
                return self.go(GenlockState::Unlocked);
            }
            model.next_pulse += model.period.round() as i64;
            model.next_index += 1;
            self.model = Some(model);
            return None;
        }
        self.outlier_rate -= OUTLIER_WEIGHT * self.outlier_rate;
        self.recent.push_back((model.next_index, t));
        if self.recent.len() > FREQUENCY_WINDOW {
            self.recent.pop_front();
        }
        let (alpha, beta) = if self.state == GenlockState::Locked {
            LOCKED_GAINS
        } else {
            LOCKING_GAINS
        };
        let corrected = model.next_pulse as f64 + alpha * error;
        model.period += beta * error;
        model.next_pulse = (corrected + model.period).round() as i64;
        model.next_index += 1;
        self.filtered_error += FILTER_WEIGHT * (error - self.filtered_error);
        self.mean_square_error += FILTER_WEIGHT * (error * error - self.mean_square_error);
        self.model = Some(model);
        self.update_lock(model, was_holdover)
    }

    fn update_lock(&mut self, model: Model, was_holdover: bool) -> Option<Transition> {
        if was_holdover {
            self.filtered_error = 0.0;
            return self.go(GenlockState::Locking);
        }
        let tolerance = self.tolerance(model.period);
        match self.state {
            GenlockState::Locking => {
                if self.filtered_error.abs() <= tolerance {
                    self.in_tolerance += 1;
                    if self.in_tolerance >= self.config.lock_pulses.max(1) {
                        self.resnap();
                        return self.go(GenlockState::Locked);
                    }
                } else {
                    self.in_tolerance = 0;
                }
                None
            }
            GenlockState::Locked if self.filtered_error.abs() > 3.0 * tolerance => {
                self.go(GenlockState::Locking)
            }
            GenlockState::Locked => {
                if self.pulses.is_multiple_of(64) {
                    self.resnap();
                }
                None
            }
            _ => None,
        }
    }

    /// Names the reference rate again from the long-term measurement (at lock, and every 64
    /// pulses while locked): far more precise than detection's few pulses.
    fn resnap(&mut self) {
        let Some((period, error)) = self.measurement() else {
            return;
        };
        if let Some(model) = self.model.as_mut() {
            let rate = snap_rate(period, error);
            if rate != model.reference_rate {
                tracing::debug!(from = %model.reference_rate, to = %rate, "genlock reference rate refined");
                model.reference_rate = rate;
                self.generation += 1;
                model.generation = self.generation;
            }
        }
    }
}

struct Fit {
    period: f64,
    /// Standard error of `period`.
    period_error: f64,
    last_time: f64,
    mean_square_residual: f64,
}

/// Least-squares line through pulse times indexed by the median interval; `None` when the
/// pulses are not a steady train.
fn fit_line(times: &[i64]) -> Option<Fit> {
    let mut intervals: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    intervals.sort_unstable();
    let median = *intervals.get(intervals.len() / 2)? as f64;
    if !(MIN_PERIOD_NS..=MAX_PERIOD_NS).contains(&median) {
        return None;
    }
    let first = times[0];
    let mut indices = Vec::with_capacity(times.len());
    for &t in times {
        let index = ((t - first) as f64 / median).round();
        if indices.last().is_some_and(|&last| index <= last) {
            return None; // two pulses within one period
        }
        indices.push(index);
    }
    let n = times.len() as f64;
    let xs = || indices.iter().copied();
    let ys = || times.iter().map(|&t| (t - first) as f64);
    let mean_x = xs().sum::<f64>() / n;
    let mean_y = ys().sum::<f64>() / n;
    let sxx: f64 = xs().map(|x| (x - mean_x).powi(2)).sum();
    let sxy: f64 = xs()
        .zip(ys())
        .map(|(x, y)| (x - mean_x) * (y - mean_y))
        .sum();
    if sxx <= 0.0 {
        return None;
    }
    let period = sxy / sxx;
    let intercept = mean_y - period * mean_x;
    let mut worst: f64 = 0.0;
    let mut square_sum = 0.0;
    for (x, y) in xs().zip(ys()) {
        let residual = y - (intercept + period * x);
        worst = worst.max(residual.abs());
        square_sum += residual * residual;
    }
    if worst > period / 4.0 || !(MIN_PERIOD_NS..=MAX_PERIOD_NS).contains(&period) {
        return None;
    }
    let last_x = *indices.last()?;
    let degrees = (n - 2.0).max(1.0);
    Some(Fit {
        period,
        period_error: (square_sum / degrees / sxx).sqrt(),
        last_time: first as f64 + intercept + period * last_x,
        mean_square_residual: square_sum / n,
    })
}

/// The standard rate nearest `1 / period` among those within [`SNAP_TOLERANCE`] or three
/// standard errors of the measurement, else the measured rate to the millihertz.
pub(super) fn snap_rate(period_ns: f64, period_error_ns: f64) -> Rate {
    let hz = 1e9 / period_ns;
    let tolerance = SNAP_TOLERANCE.max(3.0 * period_error_ns / period_ns);
    let nearest = STANDARD_RATES
        .iter()
        .map(|&(num, den)| (num, den, (hz * f64::from(den) / f64::from(num) - 1.0).abs()))
        .min_by(|a, b| a.2.total_cmp(&b.2));
    if let Some((num, den, distance)) = nearest {
        if distance <= tolerance {
            if let Ok(rate) = Rate::new(num, den) {
                return rate;
            }
        }
    }
    let millihertz = (hz * 1000.0).round().clamp(1.0, f64::from(u32::MAX)) as u32;
    Rate::new(millihertz, 1000).unwrap_or(FALLBACK)
}

const FALLBACK: Rate = match Rate::new_const(1, 1) {
    Some(rate) => rate,
    None => panic!("1/1 is a valid rate"),
};

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A deterministic pseudo-random generator for synthetic jitter.
    pub(crate) struct Noise(pub(crate) u64);

    impl Noise {
        /// Uniform in [-1, 1).
        pub(crate) fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        }
    }

    fn config() -> PllConfig {
        PllConfig {
            detect_pulses: 12,
            lock_pulses: 8,
            lock_tolerance: None,
            holdover_after_pulses: 4,
        }
    }

    /// Pulse `k` of a reference of `period` ns starting at 1 s, `ppm` off nominal.
    fn ideal(k: i64, period: f64, ppm: f64) -> f64 {
        1e9 + k as f64 * period * (1.0 + ppm * 1e-6)
    }

    #[test]
    fn snaps_standard_rates_and_keeps_odd_ones() {
        assert_eq!(snap_rate(1e9 / 60.0, 0.0), Rate::fps(60).unwrap());
        assert_eq!(
            snap_rate(1e9 * 1001.0 / 60000.0, 0.0),
            Rate::new(60000, 1001).unwrap()
        );
        assert_eq!(
            snap_rate(1e9 / 25.0 * (1.0 + 100e-6), 0.0),
            Rate::fps(25).unwrap()
        );
        assert_eq!(snap_rate(1e9, 0.0), Rate::fps(1).unwrap());
        assert_eq!(snap_rate(1e9 / 37.3, 0.0), Rate::new(373, 10).unwrap());
    }

    #[test]
    fn detection_survives_drop_outs_and_rejects_noise() {
        let period = 1e9 / 50.0;
        let times: Vec<i64> = (0..14)
            .filter(|k| *k != 4 && *k != 9)
            .map(|k| ideal(k, period, 0.0) as i64)
            .collect();
        let fit = fit_line(&times).unwrap();
        assert!((fit.period - period).abs() < 1.0, "{}", fit.period);
        // Random arrivals are not a pulse train.
        let mut noise = Noise(7);
        let mut t = 0i64;
        let random: Vec<i64> = (0..12)
            .map(|_| {
                t += (10e6 + 9e6 * noise.next()) as i64;
                t
            })
            .collect();
        assert!(fit_line(&random).is_none());
        assert!(
            fit_line(&[0, 10, 20, 30]).is_none(),
            "100 MHz is out of range"
        );
    }

    struct Run {
        locked_at: Option<i64>,
        worst_locked_error: f64,
    }

    /// Feeds pulses `range` of a jittered reference; measures the prediction against the ideal.
    fn feed(
        pll: &mut Pll,
        range: std::ops::Range<i64>,
        period: f64,
        ppm: f64,
        jitter: f64,
        noise: &mut Noise,
    ) -> Run {
        let mut run = Run {
            locked_at: None,
            worst_locked_error: 0.0,
        };
        for k in range {
            let t = ideal(k, period, ppm) + jitter * noise.next();
            pll.on_pulse(t as i64);
            if pll.state() == GenlockState::Locked {
                run.locked_at.get_or_insert(k);
                let model = pll.model().unwrap();
                // Where the loop expects the next pulse vs where the ideal reference puts it.
                let truth = ideal(k + 1, period, ppm);
                run.worst_locked_error = run
                    .worst_locked_error
                    .max((model.next_pulse as f64 - truth).abs());
            }
        }
        run
    }

    #[test]
    fn locks_fast_and_smooths_jitter() {
        let period = 1e9 / 60.0;
        let mut pll = Pll::new(config());
        let mut noise = Noise(1);
        // ±500 µs uniform jitter (σ ≈ 290 µs), reference 80 ppm fast.
        let run = feed(&mut pll, 0..400, period, 80.0, 500_000.0, &mut noise);
        let locked_at = run.locked_at.expect("locks");
        assert!(locked_at < 60, "locked at pulse {locked_at}");
        assert_eq!(pll.model().unwrap().reference_rate, Rate::fps(60).unwrap());
        // After settling, the predicted phase stays well inside the raw jitter.
        let run = feed(&mut pll, 400..1000, period, 80.0, 500_000.0, &mut noise);
        assert!(
            run.worst_locked_error < 300_000.0,
            "worst {}",
            run.worst_locked_error
        );
        let measured_ppm = (pll.measured_period().unwrap() / period - 1.0) * 1e6;
        assert!(
            (measured_ppm - 80.0).abs() < 20.0,
            "measured {measured_ppm} ppm"
        );
        assert!(pll.jitter().unwrap() > 150_000.0 && pll.jitter().unwrap() < 450_000.0);
    }

    #[test]
    fn clean_reference_locks_tightly() {
        let period = 1e9 / 50.0;
        let mut pll = Pll::new(config());
        let mut noise = Noise(2);
        let run = feed(&mut pll, 0..300, period, -30.0, 0.0, &mut noise);
        assert!(run.locked_at.unwrap() < 40);
        let run = feed(&mut pll, 300..400, period, -30.0, 0.0, &mut noise);
        assert!(
            run.worst_locked_error < 1_000.0,
            "worst {}",
            run.worst_locked_error
        );
    }

    #[test]
    fn drop_outs_are_counted_not_fatal() {
        let period = 1e9 / 50.0;
        let mut pll = Pll::new(config());
        let mut noise = Noise(3);
        feed(&mut pll, 0..200, period, 0.0, 100_000.0, &mut noise);
        assert_eq!(pll.state(), GenlockState::Locked);
        // Pulses 200..203 never come.
        let run = feed(&mut pll, 203..300, period, 0.0, 100_000.0, &mut noise);
        assert_eq!(pll.state(), GenlockState::Locked);
        assert_eq!(pll.missed, 3);
        assert!(run.worst_locked_error < 150_000.0);
    }

    #[test]
    fn holdover_free_runs_then_relocks_on_the_same_grid() {
        let period = 1e9 / 50.0;
        let mut pll = Pll::new(config());
        let mut noise = Noise(4);
        feed(&mut pll, 0..300, period, 50.0, 50_000.0, &mut noise);
        let generation = pll.model().unwrap().generation;
        assert_eq!(pll.on_silence(ideal(300, period, 50.0) as i64), None);
        let t = ideal(305, period, 50.0) as i64;
        assert_eq!(
            pll.on_silence(t),
            Some(Transition {
                from: GenlockState::Locked,
                to: GenlockState::Holdover
            })
        );
        // The frozen model extrapolates across 100 missing pulses within the jitter.
        let model = pll.model().unwrap();
        let predicted = model.time_of(model.next_index + 100, 0.0);
        let truth = ideal(299 + 1 + 100, period, 50.0);
        assert!(
            (predicted - truth).abs() < 200_000.0,
            "{}",
            predicted - truth
        );
        // The reference returns: Locking then Locked, same generation (frames continue).
        let run = feed(&mut pll, 400..500, period, 50.0, 50_000.0, &mut noise);
        assert!(run.locked_at.is_some());
        assert_eq!(pll.model().unwrap().generation, generation);
    }

    #[test]
    fn a_changed_reference_is_detected_again() {
        let mut pll = Pll::new(config());
        let mut noise = Noise(5);
        feed(&mut pll, 0..200, 1e9 / 50.0, 0.0, 0.0, &mut noise);
        assert_eq!(pll.model().unwrap().reference_rate, Rate::fps(50).unwrap());
        // Switch to 60 Hz, starting right after the last 50 Hz pulse.
        let base = ideal(199, 1e9 / 50.0, 0.0);
        for k in 1..400 {
            pll.on_pulse((base + k as f64 * 1e9 / 60.0) as i64);
        }
        // Half of the pulses miss the 50 Hz model: the outlier rate unlocks, detection runs again.
        assert_eq!(pll.state(), GenlockState::Locked);
        assert_eq!(pll.model().unwrap().reference_rate, Rate::fps(60).unwrap());
    }

    #[test]
    fn a_reference_jumping_in_phase_is_detected_again() {
        let mut pll = Pll::new(config());
        let mut noise = Noise(8);
        let period = 1e9 / 50.0;
        feed(&mut pll, 0..200, period, 0.0, 0.0, &mut noise);
        let generation = pll.model().unwrap().generation;
        // Another reference of the same rate, half a period out of phase.
        let mut unlocked = false;
        for k in 200..300 {
            let t = ideal(k, period, 0.0) + period / 2.0;
            if let Some(tr) = pll.on_pulse(t as i64) {
                unlocked |= tr.to == GenlockState::Unlocked;
            }
        }
        assert!(unlocked);
        assert_eq!(pll.state(), GenlockState::Locked);
        assert!(
            pll.model().unwrap().generation > generation,
            "new numbering"
        );
    }

    #[test]
    fn duplicate_and_backwards_pulses_are_outliers() {
        let mut pll = Pll::new(config());
        let mut noise = Noise(6);
        feed(&mut pll, 0..100, 1e9 / 50.0, 0.0, 0.0, &mut noise);
        let last = pll.last_pulse().unwrap();
        let outliers = pll.outliers;
        assert_eq!(pll.on_pulse(last), None);
        assert_eq!(pll.on_pulse(last - 1_000_000), None);
        assert_eq!(pll.outliers, outliers + 2);
        assert_eq!(pll.state(), GenlockState::Locked);
    }
}
