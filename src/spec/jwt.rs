//! Minted JSON Web Tokens for `auth: { jwt: … }`: claims from the spec plus `iat` and `exp`,
//! signed HS256 (a shared secret) or RS256 (an RSA private key, PKCS#8 PEM), with a key read
//! from outside the spec (`{ env: … }`, `{ file: … }`). The key is checked when the spec is
//! validated; a token is minted when a phase starts and again before it expires (`Jwt::due`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::RsaKeyPair;

use super::sensitive::HeaderText;

/// How a token is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    Hs256,
    Rs256,
}

impl JwtAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Rs256 => "RS256",
        }
    }
}

/// `auth: { jwt: { key, algorithm, claims, expires_in } }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwt {
    pub key: HeaderText,
    pub algorithm: JwtAlgorithm,
    /// Written claims (`sub`, `tenant`, `scope`, …); `iat` and `exp` are added unless written.
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// `exp` − `iat`.
    pub expires_in: Duration,
}

impl Jwt {
    /// A token issued at `now` (unix seconds).
    pub fn mint(&self, now: u64) -> Result<String, String> {
        let header = format!(r#"{{"alg":"{}","typ":"JWT"}}"#, self.algorithm.name());
        let mut claims = self.claims.clone();
        claims.entry("iat").or_insert(now.into());
        claims
            .entry("exp")
            .or_insert((now + self.expires_in.as_secs().max(1)).into());
        let body = serde_json::Value::Object(claims).to_string();
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(body)
        );
        let signature = sign(self.algorithm, self.key.expose(), signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// When a token minted at `minted` is due for renewal: after four fifths of its life, so
    /// a request never carries one about to expire.
    pub fn due(&self, minted: SystemTime) -> SystemTime {
        minted + self.expires_in.mul_f64(0.8)
    }

    /// Whether the key can sign (checked at validation; the message never shows the key).
    pub(crate) fn check_key(&self) -> Result<(), String> {
        sign(self.algorithm, self.key.expose(), b"check").map(drop)
    }
}

/// Unix seconds now.
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn sign(algorithm: JwtAlgorithm, key: &str, message: &[u8]) -> Result<Vec<u8>, String> {
    match algorithm {
        JwtAlgorithm::Hs256 => {
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
            Ok(ring::hmac::sign(&key, message).as_ref().to_vec())
        }
        JwtAlgorithm::Rs256 => {
            let der = pem_body(key).ok_or("the RS256 key is not a PEM `PRIVATE KEY` (PKCS#8)")?;
            let pair = RsaKeyPair::from_pkcs8(&der)
                .map_err(|e| format!("the RS256 key cannot sign: {e}"))?;
            let mut signature = vec![0; pair.public().modulus_len()];
            pair.sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|e| format!("RS256 signing failed: {e}"))?;
            Ok(signature)
        }
    }
}

/// The DER inside a `-----BEGIN PRIVATE KEY-----` PEM block.
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let body = pem
        .split("-----BEGIN PRIVATE KEY-----")
        .nth(1)?
        .split("-----END PRIVATE KEY-----")
        .next()?;
    let text: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(algorithm: JwtAlgorithm, key: &str) -> Jwt {
        Jwt {
            key: HeaderText::plain(key),
            algorithm,
            claims: serde_json::json!({ "tenant": "a", "scope": ["read"] })
                .as_object()
                .cloned()
                .unwrap(),
            expires_in: Duration::from_secs(300),
        }
    }

    fn parts(token: &str) -> (serde_json::Value, serde_json::Value, Vec<u8>) {
        let p: Vec<&str> = token.split('.').collect();
        let json = |s: &str| serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap();
        (json(p[0]), json(p[1]), URL_SAFE_NO_PAD.decode(p[2]).unwrap())
    }

    #[test]
    fn an_hs256_token_carries_the_claims_and_verifies_with_the_key() {
        let token = jwt(JwtAlgorithm::Hs256, "k3y").mint(1_000).unwrap();
        let (header, claims, signature) = parts(&token);
        assert_eq!(header, serde_json::json!({ "alg": "HS256", "typ": "JWT" }));
        assert_eq!(
            claims,
            serde_json::json!({ "tenant": "a", "scope": ["read"], "iat": 1000, "exp": 1300 })
        );
        let input = token.rsplit_once('.').unwrap().0;
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"k3y");
        assert!(ring::hmac::verify(&key, input.as_bytes(), &signature).is_ok());
        let other = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"other");
        assert!(ring::hmac::verify(&other, input.as_bytes(), &signature).is_err());
    }

    #[test]
    fn an_rs256_key_that_is_not_pkcs8_pem_is_refused_without_showing_it() {
        let bad = jwt(JwtAlgorithm::Rs256, "not-a-key-s3cr3t");
        let error = bad.check_key().unwrap_err();
        assert!(!error.contains("s3cr3t"), "{error}");
        assert!(error.contains("PKCS#8"), "{error}");
    }

    #[test]
    fn a_token_is_due_after_four_fifths_of_its_life() {
        let t = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(jwt(JwtAlgorithm::Hs256, "k").due(t), t + Duration::from_secs(240));
    }
}

#[cfg(test)]
mod rs256 {
    use super::*;

    /// A 2048-bit PKCS#8 key from openssl (on this machine kind), and the token it signs
    /// verified with its public half.
    #[test]
    fn an_rs256_token_verifies_with_the_public_key() {
        let out = std::process::Command::new("openssl")
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
            .output()
            .expect("openssl runs");
        let pem = String::from_utf8(out.stdout).unwrap();
        let jwt = Jwt {
            key: HeaderText::plain(pem.clone()),
            algorithm: JwtAlgorithm::Rs256,
            claims: serde_json::Map::new(),
            expires_in: Duration::from_secs(60),
        };
        jwt.check_key().expect("a valid key");
        let token = jwt.mint(5).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        let der = pem_body(&pem).unwrap();
        let pair = RsaKeyPair::from_pkcs8(&der).unwrap();
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            pair.public().as_ref(),
        );
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        assert!(public.verify(input.as_bytes(), &signature).is_ok());
        assert!(public.verify(b"tampered", &signature).is_err());
    }
}
