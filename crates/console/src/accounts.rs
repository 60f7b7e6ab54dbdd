//! Accounts: key files in one folder (`~/.aurum/accounts` by default). A key is saved as a
//! plain PEM (`name.pem`, what OpenSSL and GmSSL read) or, with a password, as an Ethereum
//! keystore v3 file (`name.json`, scrypt + AES-128-CTR) for secp256k1 or an encrypted
//! PKCS#8 PEM (`name.pem`, PBES2: scrypt + AES-256-CBC) for SM2.

use crate::error::{CmdResult, CommandError};
use aurum_crypto::{KeyPair, SuiteKind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A key the console can sign with, and where it came from.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub key: KeyPair,
    pub file: PathBuf,
}

/// A key file found in the accounts folder.
pub struct StoredAccount {
    pub name: String,
    pub file: PathBuf,
    /// "pem" or "keystore".
    pub format: &'static str,
}

/// The accounts folder plus the accounts loaded in this session.
pub struct Accounts {
    dir: PathBuf,
    loaded: BTreeMap<String, Account>,
    current: Option<String>,
}

impl Accounts {
    pub fn new(dir: PathBuf) -> Self {
        Accounts { dir, loaded: BTreeMap::new(), current: None }
    }

    /// The account that signs, if one is loaded.
    pub fn current(&self) -> Option<&Account> {
        self.current.as_ref().and_then(|n| self.loaded.get(n))
    }

    /// The account that signs, or an error saying how to get one.
    pub fn signer(&self) -> CmdResult<&Account> {
        self.current().ok_or_else(|| {
            CommandError::new("no account loaded")
                .next("run newAccount or loadAccount <name> first")
        })
    }

    /// Creates a key of `kind`, saves it (encrypted if `password` is given) and uses it.
    pub fn create(
        &mut self,
        kind: SuiteKind,
        name: Option<&str>,
        password: Option<&str>,
    ) -> CmdResult<&Account> {
        let key = KeyPair::generate(kind);
        let name = name.map(str::to_owned).unwrap_or_else(|| format!("{:x}", key.address()));
        check_name(&name)?;
        if self.find_file(&name).is_some() {
            return Err(CommandError::new(format!("an account named {name} already exists"))
                .next(format!("pick another name, or run loadAccount {name}")));
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            CommandError::new(format!("cannot create {}: {e}", self.dir.display()))
                .next("pass --accounts DIR with a folder you can write")
        })?;
        let file = match password {
            None => {
                let file = self.dir.join(format!("{name}.pem"));
                key.save(&file).map_err(|e| CommandError::new(format!("saving the key: {e}")))?;
                file
            }
            Some(password) => self.save_encrypted(&key, &name, password)?,
        };
        Ok(self.add(Account { name, key, file }))
    }

    fn save_encrypted(&self, key: &KeyPair, name: &str, password: &str) -> CmdResult<PathBuf> {
        if key.kind == SuiteKind::Sm2Sm3 {
            let file = self.dir.join(format!("{name}.pem"));
            let pem = encrypt_pkcs8(key, password)?;
            write_private(&file, pem.as_bytes())?;
            return Ok(file);
        }
        let file_name = format!("{name}.json");
        let secret = key.secret_bytes();
        eth_keystore::encrypt_key(
            &self.dir,
            &mut rand08::thread_rng(),
            &secret[..],
            password,
            Some(&file_name),
        )
        .map_err(|e| CommandError::new(format!("writing the keystore: {e}")))?;
        Ok(self.dir.join(file_name))
    }

    /// Loads a key file by path or by account name and uses it.
    pub fn load(&mut self, path_or_name: &str, password: Option<&str>) -> CmdResult<&Account> {
        let path = Path::new(path_or_name);
        let file = if path.is_file() {
            path.to_path_buf()
        } else {
            self.find_file(path_or_name).ok_or_else(|| {
                CommandError::new(format!(
                    "no key file {path_or_name} and no account of that name in {}",
                    self.dir.display()
                ))
                .next("run listAccount to see the accounts, or give a file path")
            })?
        };
        let name = file.file_stem().and_then(|s| s.to_str()).unwrap_or(path_or_name).to_owned();
        let key = if is_keystore(&file) {
            let Some(password) = password else {
                return Err(CommandError::new(format!("{} is password-protected", file.display()))
                    .next(format!("run loadAccount {path_or_name} --password <password>")));
            };
            let secret = eth_keystore::decrypt_key(&file, password).map_err(|e| match e {
                eth_keystore::KeystoreError::MacMismatch => {
                    CommandError::new(format!("wrong password for {}", file.display()))
                        .next("try again with the password the account was made with")
                }
                other => {
                    CommandError::new(format!("{} is not a keystore: {other}", file.display()))
                }
            })?;
            let secret: [u8; 32] = secret.as_slice().try_into().map_err(|_| {
                CommandError::new(format!("{} holds a key of the wrong length", file.display()))
            })?;
            KeyPair::from_secret(SuiteKind::Secp256k1Keccak, &secret)
                .map_err(|e| CommandError::new(format!("{}: {e}", file.display())))?
        } else if is_encrypted_pem(&file) {
            let Some(password) = password else {
                return Err(CommandError::new(format!("{} is password-protected", file.display()))
                    .next(format!("run loadAccount {path_or_name} --password <password>")));
            };
            decrypt_pkcs8(&file, password)?
        } else {
            KeyPair::load(&file).map_err(|e| {
                CommandError::new(format!("{}: {e}", file.display()))
                    .next("give a PEM key file (aurum keygen writes one) or a keystore .json")
            })?
        };
        Ok(self.add(Account { name, key, file }))
    }

    /// Uses a loaded account (or loads it from the folder) by name.
    pub fn switch(&mut self, name: &str, password: Option<&str>) -> CmdResult<&Account> {
        if self.loaded.contains_key(name) {
            self.current = Some(name.to_owned());
            return self.signer();
        }
        self.load(name, password)
    }

    fn add(&mut self, account: Account) -> &Account {
        let name = account.name.clone();
        self.loaded.insert(name.clone(), account);
        self.current = Some(name.clone());
        &self.loaded[&name]
    }

    fn find_file(&self, name: &str) -> Option<PathBuf> {
        ["pem", "json"]
            .iter()
            .map(|ext| self.dir.join(format!("{name}.{ext}")))
            .find(|p| p.is_file())
    }

    /// The key files in the folder, by name.
    pub fn stored(&self) -> Vec<StoredAccount> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut out: Vec<StoredAccount> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter_map(|file| {
                let format = match file.extension()?.to_str()? {
                    "pem" if is_encrypted_pem(&file) => "encrypted pem",
                    "pem" => "pem",
                    "json" => "keystore",
                    _ => return None,
                };
                let name = file.file_stem()?.to_str()?.to_owned();
                Some(StoredAccount { name, file, format })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The address of a stored account when it can be read without a password.
    pub fn address_of(&self, stored: &StoredAccount) -> Option<String> {
        if let Some(a) = self.loaded.get(&stored.name) {
            return Some(a.key.address().to_checksum(None));
        }
        match stored.format {
            "pem" => KeyPair::load(&stored.file).ok().map(|k| k.address().to_checksum(None)),
            _ => None,
        }
    }

    /// Names for completion: the stored and the loaded accounts.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.stored().into_iter().map(|s| s.name).collect();
        names.extend(self.loaded.keys().cloned());
        names.sort();
        names.dedup();
        names
    }
}

/// An SM2 key as an encrypted PKCS#8 PEM (`ENCRYPTED PRIVATE KEY`, PBES2 with scrypt and
/// AES-256-CBC), which OpenSSL and GmSSL read with the password.
fn encrypt_pkcs8(key: &KeyPair, password: &str) -> CmdResult<String> {
    use pkcs8::der::pem::{self, LineEnding};
    let fail = |e: String| CommandError::new(format!("encrypting the key: {e}"));
    let plain = key.to_pem().map_err(|e| fail(e.to_string()))?;
    let (_, der) = pem::decode_vec(plain.as_bytes()).map_err(|e| fail(e.to_string()))?;
    let der = zeroize::Zeroizing::new(der);
    let info =
        pkcs8::PrivateKeyInfoRef::try_from(der.as_slice()).map_err(|e| fail(e.to_string()))?;
    let encrypted = info.encrypt(password).map_err(|e| fail(e.to_string()))?;
    encrypted
        .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
        .map(|p| p.to_string())
        .map_err(|e| fail(e.to_string()))
}

fn decrypt_pkcs8(file: &Path, password: &str) -> CmdResult<KeyPair> {
    use pkcs8::der::pem::{self, LineEnding};
    let shown = file.display();
    let text = std::fs::read_to_string(file)
        .map_err(|e| CommandError::new(format!("cannot read {shown}: {e}")))?;
    let bad = |e: String| CommandError::new(format!("{shown} is not an encrypted PKCS#8 key: {e}"));
    let (_, der) = pem::decode_vec(text.trim().as_bytes()).map_err(|e| bad(e.to_string()))?;
    let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der.as_slice())
        .map_err(|e| bad(e.to_string()))?;
    let plain = info.decrypt(password).map_err(|_| {
        CommandError::new(format!("wrong password for {shown}"))
            .next("try again with the password the account was made with")
    })?;
    let pem = plain.to_pem("PRIVATE KEY", LineEnding::LF).map_err(|e| bad(e.to_string()))?;
    KeyPair::from_pem(&pem).map_err(|e| CommandError::new(format!("{shown}: {e}")))
}

/// Writes a key file readable by its owner only.
fn write_private(file: &Path, bytes: &[u8]) -> CmdResult<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let fail = |e: std::io::Error| CommandError::new(format!("writing {}: {e}", file.display()));
    options.open(file).and_then(|mut f| f.write_all(bytes)).map_err(fail)
}

fn is_encrypted_pem(file: &Path) -> bool {
    std::fs::read_to_string(file).is_ok_and(|t| t.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
}

fn is_keystore(file: &Path) -> bool {
    file.extension().is_some_and(|e| e == "json")
}

fn check_name(name: &str) -> CmdResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(CommandError::new(format!("{name:?} is not an account name"))
            .next("use letters, digits, '-' and '_' (at most 64)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_and_keystore_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut accounts = Accounts::new(dir.path().join("accounts"));
        assert!(accounts.signer().unwrap_err().to_string().contains("newAccount"));
        let plain = accounts.create(SuiteKind::Sm2Sm3, Some("sm"), None).unwrap().key.address();
        let locked = accounts.create(SuiteKind::Secp256k1Keccak, Some("eth"), Some("pw")).unwrap();
        let locked = locked.key.address();
        assert!(accounts.create(SuiteKind::Sm2Sm3, Some("sm"), None).is_err());
        assert!(accounts.create(SuiteKind::Sm2Sm3, Some("a/b"), None).is_err());
        let sm_locked = accounts.create(SuiteKind::Sm2Sm3, Some("smlock"), Some("pw")).unwrap();
        let sm_locked = sm_locked.key.address();

        let mut fresh = Accounts::new(dir.path().join("accounts"));
        let names: Vec<_> = fresh.stored().into_iter().map(|s| (s.name, s.format)).collect();
        assert_eq!(
            names,
            vec![
                ("eth".into(), "keystore"),
                ("sm".into(), "pem"),
                ("smlock".into(), "encrypted pem")
            ]
        );
        let text = std::fs::read_to_string(dir.path().join("accounts/smlock.pem")).unwrap();
        assert!(text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"), "{text}");
        assert!(fresh.load("smlock", None).unwrap_err().to_string().contains("--password"));
        let wrong = fresh.load("smlock", Some("nope")).unwrap_err().to_string();
        assert!(wrong.contains("wrong password"), "{wrong}");
        assert_eq!(fresh.load("smlock", Some("pw")).unwrap().key.address(), sm_locked);
        assert_eq!(fresh.load("sm", None).unwrap().key.address(), plain);
        assert!(fresh.load("eth", None).unwrap_err().to_string().contains("--password"));
        let wrong = fresh.load("eth", Some("nope")).unwrap_err().to_string();
        assert!(wrong.contains("wrong password"), "{wrong}");
        assert_eq!(fresh.current().unwrap().name, "sm");
        assert_eq!(fresh.load("eth", Some("pw")).unwrap().key.address(), locked);
        assert_eq!(fresh.switch("sm", None).unwrap().key.address(), plain);
        assert!(fresh.load("ghost", None).unwrap_err().to_string().contains("listAccount"));
    }
}
