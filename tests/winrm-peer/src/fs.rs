//! The host's file system: one drive per letter, in memory, with Windows
//! path rules (case-insensitive, `\` or `/`, `.` and `..`) and the .NET
//! exception messages a real host gives for the usual mistakes.

use std::collections::BTreeMap;

/// A .NET I/O exception: its type name and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IoError {
    /// e.g. `DirectoryNotFoundException`.
    pub kind: &'static str,
    pub message: String,
}

impl IoError {
    fn part_missing(path: &str) -> Self {
        Self {
            kind: "DirectoryNotFoundException",
            message: format!("Could not find a part of the path '{path}'."),
        }
    }

    fn file_missing(path: &str) -> Self {
        Self {
            kind: "FileNotFoundException",
            message: format!("Could not find file '{path}'."),
        }
    }

    fn exists(path: &str) -> Self {
        Self {
            kind: "IOException",
            message: format!("Cannot create a file when that file already exists. : '{path}'"),
        }
    }

    fn is_directory(path: &str) -> Self {
        Self {
            kind: "UnauthorizedAccessException",
            message: format!("Access to the path '{path}' is denied."),
        }
    }
}

/// A full path, as given (display) and as compared (key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FullPath {
    /// `C:\Data\a.txt`, with the caller's spelling.
    pub display: String,
    /// `c:\data\a.txt`.
    pub key: String,
}

impl FullPath {
    /// The parent directory; `None` for a drive root.
    pub(crate) fn parent(&self) -> Option<FullPath> {
        let cut = |s: &str| -> Option<String> {
            let i = s.rfind('\\')?;
            // `C:\x` → `C:\`, never `C:`.
            Some(if i <= 2 {
                s[..3].to_owned()
            } else {
                s[..i].to_owned()
            })
        };
        if self.key.len() <= 3 {
            return None;
        }
        Some(FullPath {
            display: cut(&self.display)?,
            key: cut(&self.key)?,
        })
    }
}

/// Resolves `path` against the directory `cwd` (itself a full path).
pub(crate) fn resolve(cwd: &str, path: &str) -> Option<FullPath> {
    let path = path.replace('/', "\\");
    let absolute = if path.len() >= 2 && path.as_bytes()[1] == b':' {
        if path.len() == 2 || path.as_bytes()[2] != b'\\' {
            // `C:foo` (drive-relative) is not supported.
            return None;
        }
        path
    } else if path.starts_with("\\\\") {
        // UNC shares are not part of this host.
        return None;
    } else if let Some(rest) = path.strip_prefix('\\') {
        format!("{}\\{rest}", cwd.get(..2)?)
    } else {
        format!("{}\\{path}", cwd.trim_end_matches('\\'))
    };
    let drive = absolute.get(..2)?;
    if !drive.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in absolute[3..].split('\\') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let display = format!("{}\\{}", drive.to_ascii_uppercase(), parts.join("\\"));
    Some(FullPath {
        key: display.to_lowercase(),
        display,
    })
}

/// Every file and directory of the host.
#[derive(Debug)]
pub(crate) struct Fs {
    dirs: BTreeMap<String, String>,
    files: BTreeMap<String, (String, Vec<u8>)>,
}

impl Fs {
    /// A fresh system drive with the usual folders, and a profile per user.
    pub(crate) fn new(users: &[String]) -> Self {
        let mut fs = Self {
            dirs: BTreeMap::new(),
            files: BTreeMap::new(),
        };
        let mut base = vec![
            "C:\\".to_owned(),
            "C:\\Windows\\Temp".to_owned(),
            "C:\\ProgramData".to_owned(),
        ];
        base.extend(
            users
                .iter()
                .map(|u| format!("C:\\Users\\{u}\\AppData\\Local\\Temp")),
        );
        for dir in base {
            if let Some(p) = resolve("C:\\", &dir) {
                // A fresh tree holds no file in the way.
                let _ = fs.create_dir_all(&p);
            }
        }
        fs
    }

    pub(crate) fn is_dir(&self, p: &FullPath) -> bool {
        self.dirs.contains_key(&p.key)
    }

    pub(crate) fn is_file(&self, p: &FullPath) -> bool {
        self.files.contains_key(&p.key)
    }

    pub(crate) fn read(&self, p: &FullPath) -> Result<Vec<u8>, IoError> {
        match self.files.get(&p.key) {
            Some((_, bytes)) => Ok(bytes.clone()),
            None if self.is_dir(p) => Err(IoError::is_directory(&p.display)),
            None if p.parent().is_some_and(|d| self.is_dir(&d)) => {
                Err(IoError::file_missing(&p.display))
            }
            None => Err(IoError::part_missing(&p.display)),
        }
    }

    /// Creates or truncates a file and writes `bytes`.
    pub(crate) fn write(&mut self, p: &FullPath, bytes: Vec<u8>) -> Result<(), IoError> {
        self.writable(p)?;
        self.files.insert(p.key.clone(), (p.display.clone(), bytes));
        Ok(())
    }

    /// Appends to a file, creating it when missing.
    pub(crate) fn append(&mut self, p: &FullPath, bytes: &[u8]) -> Result<(), IoError> {
        self.writable(p)?;
        self.files
            .entry(p.key.clone())
            .or_insert_with(|| (p.display.clone(), Vec::new()))
            .1
            .extend_from_slice(bytes);
        Ok(())
    }

    fn writable(&self, p: &FullPath) -> Result<(), IoError> {
        if self.is_dir(p) {
            return Err(IoError::is_directory(&p.display));
        }
        match p.parent() {
            Some(d) if self.is_dir(&d) => Ok(()),
            _ => Err(IoError::part_missing(&p.display)),
        }
    }

    /// Creates a directory and its missing parents; fails where a file is.
    pub(crate) fn create_dir_all(&mut self, p: &FullPath) -> Result<(), IoError> {
        let mut chain = vec![p.clone()];
        while let Some(parent) = chain.last().and_then(FullPath::parent) {
            chain.push(parent);
        }
        for dir in chain.iter().rev() {
            if self.is_file(dir) {
                return Err(IoError::exists(&dir.display));
            }
            self.dirs
                .entry(dir.key.clone())
                .or_insert_with(|| dir.display.clone());
        }
        Ok(())
    }

    /// Deletes a file; a missing file is not an error (as `File.Delete`).
    pub(crate) fn delete_file(&mut self, p: &FullPath) -> Result<(), IoError> {
        if self.is_dir(p) {
            return Err(IoError::is_directory(&p.display));
        }
        if !p.parent().is_some_and(|d| self.is_dir(&d)) {
            return Err(IoError::part_missing(&p.display));
        }
        self.files.remove(&p.key);
        Ok(())
    }

    /// Moves a file; `replace` overwrites an existing destination file.
    pub(crate) fn move_file(
        &mut self,
        from: &FullPath,
        to: &FullPath,
        replace: bool,
    ) -> Result<(), IoError> {
        if !self.is_file(from) {
            return Err(IoError::file_missing(&from.display));
        }
        if self.is_dir(to) || (self.is_file(to) && !replace) {
            return Err(IoError::exists(&to.display));
        }
        self.writable(to)?;
        if let Some((_, bytes)) = self.files.remove(&from.key) {
            self.files
                .insert(to.key.clone(), (to.display.clone(), bytes));
        }
        Ok(())
    }

    /// Every file, by its full path.
    pub(crate) fn file_paths(&self) -> Vec<String> {
        self.files.values().map(|(d, _)| d.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> FullPath {
        resolve("C:\\Users\\ops", s).unwrap()
    }

    #[test]
    fn paths_resolve_like_windows() {
        assert_eq!(p("c:/Data/./x/../a.txt").display, "C:\\Data\\a.txt");
        assert_eq!(p("c:/Data/a.txt").key, "c:\\data\\a.txt");
        assert_eq!(p("a.txt").display, "C:\\Users\\ops\\a.txt");
        assert_eq!(p("\\Temp").display, "C:\\Temp");
        assert_eq!(p("C:\\").parent(), None);
        assert_eq!(p("C:\\x").parent().unwrap().display, "C:\\");
        assert!(resolve("C:\\", "\\\\server\\share").is_none());
    }

    #[test]
    fn files_need_their_directory() {
        let mut fs = Fs::new(&["ops".into()]);
        let f = p("C:\\Data\\a.txt");
        assert_eq!(
            fs.write(&f, b"x".to_vec()).unwrap_err().kind,
            "DirectoryNotFoundException"
        );
        fs.create_dir_all(&p("C:\\Data")).unwrap();
        fs.write(&f, b"ab".to_vec()).unwrap();
        fs.append(&f, b"c").unwrap();
        assert_eq!(fs.read(&p("c:\\DATA\\A.TXT")).unwrap(), b"abc");
        let g = p("C:\\Data\\b.txt");
        fs.write(&g, Vec::new()).unwrap();
        assert_eq!(fs.move_file(&f, &g, false).unwrap_err().kind, "IOException");
        fs.move_file(&f, &g, true).unwrap();
        assert!(!fs.is_file(&f));
        assert_eq!(fs.read(&g).unwrap(), b"abc");
        assert_eq!(fs.read(&f).unwrap_err().kind, "FileNotFoundException");
        assert!(fs.is_dir(&p("C:\\Users\\ops\\AppData\\Local\\Temp")));
    }
}
