//! Commands as lists of binary-safe arguments.

/// One argument, already encoded as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg(pub Vec<u8>);

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Self(s.as_bytes().to_vec())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Self {
        Self(s.into_bytes())
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Self(s.as_bytes().to_vec())
    }
}
impl From<&[u8]> for Arg {
    fn from(b: &[u8]) -> Self {
        Self(b.to_vec())
    }
}
impl From<Vec<u8>> for Arg {
    fn from(b: Vec<u8>) -> Self {
        Self(b)
    }
}
impl<const N: usize> From<&[u8; N]> for Arg {
    fn from(b: &[u8; N]) -> Self {
        Self(b.to_vec())
    }
}
macro_rules! int_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Self { Self(n.to_string().into_bytes()) }
        }
    )*};
}
int_arg!(i32, i64, u32, u64, usize);

impl From<f64> for Arg {
    fn from(n: f64) -> Self {
        Self(n.to_string().into_bytes())
    }
}

/// A Redis command: its name followed by its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    args: Vec<Vec<u8>>,
}

impl Cmd {
    pub fn new(name: &str) -> Self {
        Self {
            args: vec![name.as_bytes().to_vec()],
        }
    }

    #[must_use]
    pub fn arg(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into().0);
        self
    }

    #[must_use]
    pub fn args<A: Into<Arg>>(mut self, args: impl IntoIterator<Item = A>) -> Self {
        self.args.extend(args.into_iter().map(|a| a.into().0));
        self
    }

    /// The command name as written.
    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.args[0]).into_owned()
    }

    /// Name and arguments, in order.
    pub fn parts(&self) -> &[Vec<u8>] {
        &self.args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_binary_safe_argument_lists() {
        let cmd = Cmd::new("SET")
            .arg("k")
            .arg(&[0u8, 255][..])
            .arg(10_u64)
            .args(["EX", "5"]);
        assert_eq!(cmd.name(), "SET");
        assert_eq!(
            cmd.parts(),
            [
                b"SET".to_vec(),
                b"k".to_vec(),
                vec![0, 255],
                b"10".to_vec(),
                b"EX".to_vec(),
                b"5".to_vec()
            ]
        );
    }
}
