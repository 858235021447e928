//! What the benchmark measures on: the two databases (fresh SQLite files, or new databases on a
//! given PostgreSQL server), the demo's clients and people, one user per connection for
//! sign-ins, and a directory of many synthetic staff records.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use directory_api::domain::staff::{NewStaff, NewStaffRequest};
use directory_api::store::staff::Actor;
use secrecy::{ExposeSecret as _, SecretString};
use service_kit::clock::{Clock as _, SystemClock};
use sqlx::Connection as _;

use crate::{demo, seed};

/// The databases of one run.
#[derive(Debug)]
pub struct Databases {
    /// The auth server's database URL.
    pub auth: String,
    /// The directory API's database URL.
    pub api: String,
    /// What they are, for the table's heading.
    pub description: String,
    /// The PostgreSQL server and the databases this run created on it, dropped at the end.
    created: Option<(String, [String; 2])>,
}

impl Databases {
    /// Two SQLite files in `folder`, or two new databases on the PostgreSQL server of
    /// `postgres_url` (any database of that server works as the address).
    pub async fn create(postgres_url: Option<&str>, folder: &Path) -> anyhow::Result<Self> {
        let Some(url) = postgres_url else {
            return Ok(Self {
                auth: format!("sqlite://{}", folder.join("auth.db").display()),
                api: format!("sqlite://{}", folder.join("directory.db").display()),
                description: "SQLite (fresh files)".to_owned(),
                created: None,
            });
        };
        anyhow::ensure!(
            url.starts_with("postgres://") || url.starts_with("postgresql://"),
            "--database-url must be a postgres:// URL (SQLite is the default)"
        );
        let (server, _) = url
            .rsplit_once('/')
            .context("the PostgreSQL URL names no database")?;
        let suffix = format!("{:x}", std::process::id());
        let names = [
            format!("sd_bench_auth_{suffix}"),
            format!("sd_bench_api_{suffix}"),
        ];
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .with_context(|| format!("cannot connect to PostgreSQL at {url}"))?;
        for name in &names {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"
            )))
            .execute(&mut conn)
            .await
            .with_context(|| format!("cannot create the database {name}"))?;
        }
        conn.close().await?;
        Ok(Self {
            auth: format!("{server}/{}", names[0]),
            api: format!("{server}/{}", names[1]),
            description: format!(
                "PostgreSQL ({server}, new databases {}, {})",
                names[0], names[1]
            ),
            created: Some((url.to_owned(), names)),
        })
    }

    /// Drops the PostgreSQL databases this run created (SQLite files go with their folder).
    pub async fn remove(self) -> anyhow::Result<()> {
        if let Some((url, names)) = self.created {
            let mut conn = sqlx::PgConnection::connect(&url).await?;
            for name in names {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .with_context(|| format!("cannot drop the database {name}"))?;
            }
            conn.close().await?;
        }
        Ok(())
    }
}

/// The people the benchmark signs in as.
#[derive(Debug)]
pub struct Fixture {
    /// One user per connection: a sign-in counts against its username's throttle while its
    /// password is being checked, so one username signed in 32 times at once would be
    /// (rightly) throttled. Real sign-ins come from many people.
    pub usernames: Vec<String>,
    /// Their common password.
    pub password: SecretString,
}

/// Migrates both databases and fills them: the demo's clients and people, `users` users, the
/// 60 demo staff and `records` synthetic ones.
pub async fn seed(databases: &Databases, users: usize, records: usize) -> anyhow::Result<Fixture> {
    let now = SystemClock.now();
    let auth = seed::auth_database(&databases.auth).await?;
    demo::seed_auth(&auth, now).await?;
    let usernames: Vec<String> = (0..users).map(|i| format!("bench-user-{i}")).collect();
    let password = SecretString::from("bench-password-of-many-words");
    let people: Vec<seed::User<'_>> = usernames
        .iter()
        .map(|username| seed::User {
            username,
            password: password.expose_secret(),
        })
        .collect();
    seed::users(&auth, &people, now).await?;
    auth.close().await;

    let api = seed::directory_database(&databases.api, now).await?;
    let started = Instant::now();
    let staff = (0..records)
        .map(synthetic)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let actor = Actor {
        subject: "bench",
        client_id: "bench",
        kind: "seed",
    };
    let created = api.create_staff_many(&staff, actor, now).await?;
    anyhow::ensure!(
        created == records,
        "only {created} of {records} records were created"
    );
    eprintln!(
        "seeded {records} records in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    api.close().await;
    Ok(Fixture {
        usernames,
        password,
    })
}

const FIRST: [&str; 24] = [
    "Alice", "Ben", "Chen", "Dara", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jonas", "Kavya",
    "Luca", "Maya", "Nikos", "Olga", "Pablo", "Qing", "Rosa", "Sami", "Tomas", "Uma", "Viktor",
    "Wen", "Yusuf",
];
const LAST: [&str; 24] = [
    "Johnson",
    "Okafor",
    "Raman",
    "Fernández",
    "Nakamura",
    "Schmidt",
    "Kowalski",
    "Haddad",
    "Lindqvist",
    "Osei",
    "Moreau",
    "Ivanova",
    "Barros",
    "Kim",
    "Novak",
    "Larsen",
    "Chaudhry",
    "Mensah",
    "Rossi",
    "Dubois",
    "Varga",
    "Tanaka",
    "Silva",
    "Byrne",
];
const TITLES: [&str; 8] = [
    "Professor",
    "Senior Lecturer",
    "Lecturer",
    "Research Fellow",
    "Teaching Fellow",
    "PhD Researcher",
    "Technician",
    "School Administrator",
];
const DEPARTMENTS: [&str; 8] = [
    "School of Computer Science",
    "School of Chemistry",
    "School of Mathematics and Physics",
    "School of History and Heritage",
    "School of Life Sciences",
    "School of Engineering",
    "Lincoln Business School",
    "School of English and Journalism",
];
const TOPICS: [&str; 32] = [
    "machine learning",
    "climate modelling",
    "cryptography",
    "medieval trade",
    "protein folding",
    "robotics",
    "corporate finance",
    "poetry",
    "catalysis",
    "number theory",
    "soil ecology",
    "urban history",
    "compilers",
    "quantum optics",
    "marketing",
    "journalism ethics",
    "materials science",
    "epidemiology",
    "game theory",
    "heritage conservation",
    "control systems",
    "computational linguistics",
    "organic synthesis",
    "astrophysics",
    "supply chains",
    "oral history",
    "distributed systems",
    "marine biology",
    "fluid dynamics",
    "accounting",
    "creative writing",
    "human-computer interaction",
];

/// A synthetic member of staff, the same for the same `i`.
fn synthetic(i: usize) -> anyhow::Result<NewStaff> {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len()) % LAST.len()];
    let topics: Vec<&str> = (0..3)
        .map(|k| TOPICS[(i * 7 + k * 11) % TOPICS.len()])
        .collect();
    let request: NewStaffRequest = serde_json::from_value(serde_json::json!({
        "username": format!("s{i:06}"),
        "display_name": format!("{first} {last}"),
        "job_title": TITLES[i % TITLES.len()],
        "department": DEPARTMENTS[(i / 3) % DEPARTMENTS.len()],
        "email": format!("s{i:06}@example.edu"),
        "phone": format!("+1 555 01{:02} {:04}", i % 100, i % 10_000),
        "office": format!("Building {}, room {}", i % 12, i % 500),
        "bio": format!("{first} {last} works on {} and teaches an undergraduate module.", topics[0]),
        "research_interests": topics.join(", "),
    }))?;
    NewStaff::parse(&request).map_err(|e| anyhow::anyhow!("synthetic record {i} is invalid: {e:?}"))
}
