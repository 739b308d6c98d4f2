//! Keyboard and mouse events (payloads; not to be confused with an actor's `Input` port).

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

use super::invalid;
use crate::error::Result;
use crate::timestamp::Timestamp;

/// A key of a keyboard. Printable keys are [`Key::Character`] (the space bar is
/// `Character(' ')`); keys without a variant are [`Key::Other`] with the platform's key code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Key {
    /// A key that types this character, as typed with the current modifiers (`'a'`, `'A'`, `' '`).
    Character(char),
    /// Enter / Return.
    Enter,
    /// Escape.
    Escape,
    /// Backspace.
    Backspace,
    /// Tab.
    Tab,
    /// Delete (forward).
    Delete,
    /// Insert.
    Insert,
    /// Home.
    Home,
    /// End.
    End,
    /// Page Up.
    PageUp,
    /// Page Down.
    PageDown,
    /// Arrow up.
    ArrowUp,
    /// Arrow down.
    ArrowDown,
    /// Arrow left.
    ArrowLeft,
    /// Arrow right.
    ArrowRight,
    /// Function key: `Function(1)` is F1.
    Function(u8),
    /// Shift, left or right.
    Shift,
    /// Control, left or right.
    Control,
    /// Alt / Option, left or right.
    Alt,
    /// Meta: Command, Windows or Super, left or right.
    Meta,
    /// Caps Lock.
    CapsLock,
    /// Any other key, by the platform's key code.
    Other(u32),
}

/// What happened to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// The key went down.
    Pressed,
    /// The key went up.
    Released,
    /// The key is held and the system repeats it.
    Repeat,
}

/// The set of modifier keys held during an event: combine the constants with `|`.
///
/// ```
/// use streamlib::Modifiers;
/// let held = Modifiers::SHIFT | Modifiers::CTRL;
/// assert!(held.shift() && held.ctrl() && !held.alt());
/// assert!(held.contains(Modifiers::CTRL));
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Modifiers(u8);

impl Modifiers {
    /// No modifier held.
    pub const NONE: Modifiers = Modifiers(0);
    /// Shift.
    pub const SHIFT: Modifiers = Modifiers(1);
    /// Control.
    pub const CTRL: Modifiers = Modifiers(1 << 1);
    /// Alt / Option.
    pub const ALT: Modifiers = Modifiers(1 << 2);
    /// Meta: Command, Windows or Super.
    pub const META: Modifiers = Modifiers(1 << 3);
    const ALL: [(Modifiers, &'static str); 4] = [
        (Modifiers::SHIFT, "SHIFT"),
        (Modifiers::CTRL, "CTRL"),
        (Modifiers::ALT, "ALT"),
        (Modifiers::META, "META"),
    ];

    /// The raw bits: SHIFT = 1, CTRL = 2, ALT = 4, META = 8.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The set of the given bits; unknown bits are dropped.
    pub const fn from_bits_truncate(bits: u8) -> Modifiers {
        Modifiers(bits & 0b1111)
    }

    /// Whether every modifier of `other` is held.
    pub const fn contains(self, other: Modifiers) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no modifier is held.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether Shift is held.
    pub const fn shift(self) -> bool {
        self.contains(Modifiers::SHIFT)
    }

    /// Whether Control is held.
    pub const fn ctrl(self) -> bool {
        self.contains(Modifiers::CTRL)
    }

    /// Whether Alt / Option is held.
    pub const fn alt(self) -> bool {
        self.contains(Modifiers::ALT)
    }

    /// Whether Meta (Command, Windows, Super) is held.
    pub const fn meta(self) -> bool {
        self.contains(Modifiers::META)
    }
}

impl BitOr for Modifiers {
    type Output = Modifiers;

    fn bitor(self, other: Modifiers) -> Modifiers {
        Modifiers(self.0 | other.0)
    }
}

impl BitOrAssign for Modifiers {
    fn bitor_assign(&mut self, other: Modifiers) {
        self.0 |= other.0;
    }
}

impl fmt::Debug for Modifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut held = Modifiers::ALL
            .iter()
            .filter(|(modifier, _)| self.contains(*modifier))
            .map(|(_, name)| *name);
        f.write_str("Modifiers(")?;
        match held.next() {
            None => f.write_str("NONE")?,
            Some(first) => {
                f.write_str(first)?;
                held.try_for_each(|name| write!(f, " | {name}"))?;
            }
        }
        f.write_str(")")
    }
}

/// A key went down, up, or repeats. Every combination of fields is valid, so the fields are public.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyEvent {
    /// Which key.
    pub key: Key,
    /// What happened to it.
    pub state: KeyState,
    /// Modifiers held at the time.
    pub modifiers: Modifiers,
    /// When it happened, on the clock of its source.
    pub timestamp: Timestamp,
}

impl KeyEvent {
    /// A key event.
    pub const fn new(
        key: Key,
        state: KeyState,
        modifiers: Modifiers,
        timestamp: Timestamp,
    ) -> Self {
        KeyEvent {
            key,
            state,
            modifiers,
            timestamp,
        }
    }
}

/// A mouse button.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MouseButton {
    /// Primary button.
    Left,
    /// Secondary button.
    Right,
    /// Middle button / wheel click.
    Middle,
    /// "Back" side button.
    Back,
    /// "Forward" side button.
    Forward,
    /// Any other button, by the platform's number.
    Other(u16),
}

/// What the pointer did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MouseEventKind {
    /// The pointer moved to the event's position.
    Moved,
    /// A button went down.
    Pressed(MouseButton),
    /// A button went up.
    Released(MouseButton),
    /// The wheel or touchpad scrolled: positive `dx` to the right, positive `dy` down (the
    /// content moves up), like a browser's `WheelEvent`; units are those of the source.
    Scrolled {
        /// Horizontal amount.
        dx: f32,
        /// Vertical amount.
        dy: f32,
    },
}

/// A pointer event at `(x, y)`, in pixels of the source surface from its top-left corner.
///
/// Coordinates may lie outside the surface (a drag that leaves the window) but are always finite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MouseEvent {
    x: f32,
    y: f32,
    kind: MouseEventKind,
    modifiers: Modifiers,
    timestamp: Timestamp,
}

impl MouseEvent {
    /// A pointer event.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`](crate::Error::InvalidMessage) if `x`, `y`, or a scroll amount is NaN or infinite.
    pub fn new(
        x: f32,
        y: f32,
        kind: MouseEventKind,
        modifiers: Modifiers,
        timestamp: Timestamp,
    ) -> Result<MouseEvent> {
        let mut values = vec![("x", x), ("y", y)];
        if let MouseEventKind::Scrolled { dx, dy } = kind {
            values.extend([("dx", dx), ("dy", dy)]);
        }
        if let Some((name, value)) = values.into_iter().find(|(_, value)| !value.is_finite()) {
            return Err(invalid(
                "MouseEvent",
                format!("{name} must be finite, got {value}"),
            ));
        }
        Ok(MouseEvent {
            x,
            y,
            kind,
            modifiers,
            timestamp,
        })
    }

    /// Horizontal position in pixels from the left edge.
    pub fn x(&self) -> f32 {
        self.x
    }

    /// Vertical position in pixels from the top edge.
    pub fn y(&self) -> f32 {
        self.y
    }

    /// What the pointer did.
    pub fn kind(&self) -> MouseEventKind {
        self.kind
    }

    /// Modifiers held at the time.
    pub fn modifiers(&self) -> Modifiers {
        self.modifiers
    }

    /// When it happened, on the clock of its source.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
}
