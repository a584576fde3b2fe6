//! A minted JWT kept fresh for a phase's requests: minted when the phase is prepared, minted
//! again on the first request after four fifths of its life (`Jwt::due`), so a phase longer
//! than a token's life never sends an expired one.

use std::sync::Mutex;
use std::time::SystemTime;

use hyper::header::HeaderValue;

use crate::spec::Jwt;
use crate::spec::jwt_unix_seconds;

pub(crate) struct FreshToken {
    jwt: Jwt,
    /// The `Authorization` value and when it is due for renewal.
    current: Mutex<(HeaderValue, SystemTime)>,
}

impl std::fmt::Debug for FreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FreshToken({:?})", self.jwt)
    }
}

impl FreshToken {
    pub(crate) fn new(jwt: &Jwt) -> Result<Self, String> {
        let now = SystemTime::now();
        let value = Self::minted(jwt, now)?;
        Ok(Self {
            jwt: jwt.clone(),
            current: Mutex::new((value, jwt.due(now))),
        })
    }

    /// `Bearer <token>` for a request sent now (renewed when due; a failed renewal keeps the
    /// last token, which the validated key makes unlikely).
    pub(crate) fn header(&self) -> HeaderValue {
        let now = SystemTime::now();
        let mut current = self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if now >= current.1
            && let Ok(value) = Self::minted(&self.jwt, now)
        {
            *current = (value, self.jwt.due(now));
        }
        current.0.clone()
    }

    fn minted(jwt: &Jwt, now: SystemTime) -> Result<HeaderValue, String> {
        let token = jwt.mint(jwt_unix_seconds(now))?;
        let mut value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|e| e.to_string())?;
        value.set_sensitive(true);
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::spec::{HeaderText, JwtAlgorithm};

    #[test]
    fn a_token_is_renewed_once_due() {
        let jwt = Jwt {
            key: HeaderText::plain("k"),
            algorithm: JwtAlgorithm::Hs256,
            claims: serde_json::Map::new(),
            expires_in: Duration::from_secs(2),
        };
        let token = FreshToken::new(&jwt).unwrap();
        let due = |t: &FreshToken| t.current.lock().unwrap().1;
        let first = due(&token);
        let _ = token.header();
        assert_eq!(due(&token), first, "renewed before it was due");
        // Due now: as if four fifths of its life had passed.
        let past = SystemTime::now() - Duration::from_millis(1);
        token.current.lock().unwrap().1 = past;
        let _ = token.header();
        assert!(due(&token) > past + Duration::from_secs(1), "not renewed once due");
        assert!(format!("{token:?}").contains("FreshToken"));
        assert!(!format!("{:?}", token.header()).contains("Bearer"));
    }
}
