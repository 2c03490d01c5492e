/* The synthetic job market behind gtp-generator: weighted tables of roles,
 * seniority words, companies, locations (≥ 25 countries, in the formats of
 * docs/events.md) and skills, and description templates. Skills follow each role's
 * stack, pull in companions (Spark with Scala/Python/Kafka, React with
 * TypeScript, ...) and drift over simulated time. All text in the tables is
 * JSON-safe (no quotes, backslashes or control bytes), so it is copied into
 * events without escaping. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtp/util.h"

/* ---- skills ------------------------------------------------------------------ */

struct skill {
    const char *id;
    const char *forms[4]; /* surface forms; the first is the most common */
    double trend;         /* change of log-popularity per 30 simulated days */
};

/* The first 70 are the fixed ids of docs/events.md; the rest add realistic noise. */
static const struct skill skills[] = {
    {"python", {"Python", "Python 3", "python"}, 0.02},
    {"java", {"Java", "Java 17", "Java/JVM"}, -0.01},
    {"javascript", {"JavaScript", "Javascript", "modern JavaScript (ES6+)"}, -0.01},
    {"typescript", {"TypeScript", "Typescript"}, 0.04},
    {"go", {"Go", "Golang", "golang", "Go (Golang)"}, 0.05},
    {"rust", {"Rust", "Rust"}, 0.08},
    {"c", {"C", "embedded C"}, -0.01},
    {"cpp", {"C++", "modern C++"}, 0.0},
    {"csharp", {"C#"}, 0.0},
    {"scala", {"Scala"}, -0.03},
    {"kotlin", {"Kotlin"}, 0.03},
    {"swift", {"Swift"}, 0.01},
    {"ruby", {"Ruby"}, -0.04},
    {"php", {"PHP"}, -0.04},
    {"r", {"R", "R (tidyverse)"}, -0.02},
    {"sql", {"SQL", "advanced SQL"}, 0.0},
    {"bash", {"Bash", "shell scripting (Bash)"}, 0.0},
    {"spark", {"Spark", "Apache Spark"}, 0.01},
    {"kafka", {"Kafka", "Apache Kafka"}, 0.03},
    {"flink", {"Flink", "Apache Flink"}, 0.05},
    {"hadoop", {"Hadoop", "Hadoop (HDFS)"}, -0.08},
    {"hive", {"Hive", "Apache Hive"}, -0.06},
    {"airflow", {"Airflow", "Apache Airflow"}, 0.03},
    {"dbt", {"dbt"}, 0.06},
    {"snowflake", {"Snowflake"}, 0.05},
    {"databricks", {"Databricks"}, 0.06},
    {"bigquery", {"BigQuery"}, 0.03},
    {"redshift", {"Redshift", "Amazon Redshift"}, -0.03},
    {"pandas", {"pandas", "Pandas"}, 0.01},
    {"numpy", {"NumPy", "numpy"}, 0.0},
    {"postgresql", {"PostgreSQL", "Postgres"}, 0.03},
    {"mysql", {"MySQL"}, -0.02},
    {"mongodb", {"MongoDB"}, -0.01},
    {"redis", {"Redis"}, 0.01},
    {"elasticsearch", {"Elasticsearch", "ElasticSearch"}, 0.0},
    {"cassandra", {"Cassandra", "Apache Cassandra"}, -0.03},
    {"dynamodb", {"DynamoDB"}, 0.02},
    {"aws", {"AWS", "Amazon Web Services (AWS)"}, 0.01},
    {"azure", {"Azure", "Microsoft Azure"}, 0.03},
    {"gcp", {"GCP", "Google Cloud Platform", "Google Cloud"}, 0.02},
    {"docker", {"Docker"}, 0.01},
    {"kubernetes", {"Kubernetes", "k8s", "K8s"}, 0.03},
    {"terraform", {"Terraform"}, 0.04},
    {"ansible", {"Ansible"}, -0.03},
    {"jenkins", {"Jenkins"}, -0.04},
    {"git", {"Git", "git"}, 0.0},
    {"linux", {"Linux"}, 0.0},
    {"react", {"React", "React.js", "ReactJS"}, 0.02},
    {"react-native", {"React Native"}, 0.0},
    {"angular", {"Angular"}, -0.04},
    {"vue", {"Vue.js", "Vue"}, 0.0},
    {"nodejs", {"Node.js", "NodeJS"}, 0.01},
    {"django", {"Django"}, 0.0},
    {"flask", {"Flask"}, -0.02},
    {"fastapi", {"FastAPI"}, 0.07},
    {"spring", {"Spring Boot", "Spring"}, 0.0},
    {"rails", {"Rails"}, -0.04},
    {"dotnet", {".NET", ".NET Core"}, 0.0},
    {"graphql", {"GraphQL"}, 0.02},
    {"pytorch", {"PyTorch"}, 0.06},
    {"tensorflow", {"TensorFlow"}, -0.05},
    {"scikit-learn", {"scikit-learn", "sklearn"}, 0.0},
    {"machine-learning", {"machine learning", "Machine Learning"}, 0.05},
    {"tableau", {"Tableau"}, -0.02},
    {"power-bi", {"Power BI", "PowerBI"}, 0.03},
    {"excel", {"Excel", "Microsoft Excel", "advanced Excel"}, -0.01},
    {"looker", {"Looker"}, 0.02},
    {"android", {"Android"}, 0.0},
    {"ios", {"iOS"}, 0.0},
    {"flutter", {"Flutter"}, 0.04},
    /* beyond the fixed ids */
    {"jquery", {"jQuery"}, -0.08},
    {"perl", {"Perl"}, -0.06},
    {"html", {"HTML5", "HTML"}, 0.0},
    {"css", {"CSS", "CSS3"}, 0.0},
    {"tailwind", {"Tailwind CSS"}, 0.05},
    {"nextjs", {"Next.js"}, 0.05},
    {"redux", {"Redux"}, -0.02},
    {"jest", {"Jest"}, 0.0},
    {"cypress", {"Cypress"}, 0.02},
    {"selenium", {"Selenium"}, -0.02},
    {"grafana", {"Grafana"}, 0.02},
    {"prometheus", {"Prometheus"}, 0.02},
    {"helm", {"Helm"}, 0.02},
    {"argocd", {"Argo CD"}, 0.04},
    {"github-actions", {"GitHub Actions"}, 0.04},
    {"gitlab-ci", {"GitLab CI"}, 0.0},
    {"rabbitmq", {"RabbitMQ"}, -0.02},
    {"llm", {"LLMs", "large language models"}, 0.10},
    {"nlp", {"NLP"}, 0.02},
    {"mlflow", {"MLflow"}, 0.04},
    {"keras", {"Keras"}, -0.04},
    {"xgboost", {"XGBoost"}, 0.0},
    {"salesforce", {"Salesforce"}, 0.0},
    {"sap", {"SAP"}, -0.01},
    {"jira", {"Jira"}, 0.0},
    {"figma", {"Figma"}, 0.03},
    {"matlab", {"MATLAB"}, -0.03},
    {"sas", {"SAS"}, -0.05},
    {"objective-c", {"Objective-C"}, -0.07},
    {"dart", {"Dart"}, 0.03},
};
#define NSKILLS GTP_ARRAY_LEN(skills)

/* Companions: when `from` is picked, `to` joins with probability p. */
static const struct {
    const char *from, *to;
    double p;
} companions[] = {
    {"spark", "scala", 0.35},
    {"spark", "python", 0.55},
    {"spark", "kafka", 0.35},
    {"spark", "databricks", 0.25},
    {"spark", "hadoop", 0.15},
    {"react", "typescript", 0.65},
    {"react", "javascript", 0.35},
    {"react", "redux", 0.2},
    {"react", "nodejs", 0.25},
    {"react", "graphql", 0.15},
    {"nodejs", "typescript", 0.5},
    {"angular", "typescript", 0.8},
    {"vue", "javascript", 0.5},
    {"django", "python", 0.9},
    {"flask", "python", 0.9},
    {"fastapi", "python", 0.9},
    {"pandas", "numpy", 0.6},
    {"pandas", "python", 0.8},
    {"pytorch", "python", 0.8},
    {"tensorflow", "python", 0.8},
    {"scikit-learn", "python", 0.7},
    {"kubernetes", "docker", 0.65},
    {"helm", "kubernetes", 0.9},
    {"terraform", "aws", 0.5},
    {"airflow", "python", 0.6},
    {"dbt", "snowflake", 0.4},
    {"dbt", "sql", 0.7},
    {"rails", "ruby", 0.9},
    {"spring", "java", 0.85},
    {"swift", "ios", 0.8},
    {"kotlin", "android", 0.4},
    {"flutter", "dart", 0.7},
    {"dotnet", "csharp", 0.8},
    {"kafka", "flink", 0.15},
    {"hive", "hadoop", 0.5},
    {"llm", "pytorch", 0.4},
    {"machine-learning", "python", 0.7},
    {"nextjs", "react", 0.9},
    {"tableau", "sql", 0.6},
    {"power-bi", "excel", 0.4},
    {"looker", "sql", 0.6},
    {"redshift", "aws", 0.6},
    {"bigquery", "gcp", 0.6},
    {"cpp", "c", 0.3},
};

/* ---- roles ------------------------------------------------------------------- */

struct role {
    const char *name; /* title without seniority */
    const char *area; /* "Head of <area>" */
    double weight;    /* share of postings (tech-heavy on purpose) */
    int min_sk, max_sk;
    const char *stack; /* "id:weight id:weight ..." */
};

static const struct role roles[] = {
    {"Data Engineer", "Data Engineering", 9, 3, 6,
     "python:10 sql:10 spark:9 kafka:6 airflow:6 dbt:4 snowflake:4 databricks:4 aws:5 gcp:2 "
     "azure:2 scala:3 hadoop:2 hive:2 bigquery:3 redshift:2 docker:2 postgresql:2 flink:2"},
    {"Software Engineer", "Engineering", 12, 2, 5,
     "java:7 python:7 go:5 typescript:5 javascript:4 cpp:3 rust:2 csharp:3 kotlin:2 aws:4 "
     "docker:4 kubernetes:3 postgresql:3 git:3 linux:2 redis:2 graphql:1 sql:3"},
    {"Backend Engineer", "Backend Engineering", 7, 2, 5,
     "java:7 go:6 python:6 nodejs:4 spring:4 django:2 fastapi:2 postgresql:5 mysql:3 redis:3 "
     "kafka:3 mongodb:2 docker:4 kubernetes:3 aws:4 graphql:2 rust:2 csharp:2 dotnet:2 "
     "rabbitmq:1 elasticsearch:2 dynamodb:1 cassandra:1 php:1"},
    {"Frontend Developer", "Frontend", 6, 2, 5,
     "react:9 typescript:7 javascript:7 vue:3 angular:3 html:4 css:4 nextjs:2 tailwind:2 "
     "jest:2 cypress:1 graphql:1 jquery:1 figma:1"},
    {"Full Stack Developer", "Engineering", 6, 3, 6,
     "react:7 nodejs:6 typescript:6 javascript:5 python:3 django:2 rails:2 ruby:1 php:2 "
     "postgresql:4 mysql:2 mongodb:3 aws:3 docker:3 graphql:2 vue:2 angular:2 nextjs:1 "
     "dotnet:1 csharp:1"},
    {"Machine Learning Engineer", "Machine Learning", 5, 3, 6,
     "python:10 pytorch:7 tensorflow:4 scikit-learn:4 machine-learning:7 llm:4 numpy:3 pandas:3 "
     "mlflow:2 kubernetes:2 docker:3 aws:2 gcp:2 spark:2 sql:2 nlp:2 cpp:1"},
    {"Data Scientist", "Data Science", 6, 3, 6,
     "python:10 r:5 sql:8 pandas:6 numpy:4 scikit-learn:5 machine-learning:7 pytorch:2 "
     "tensorflow:2 xgboost:2 tableau:2 spark:2 excel:2 nlp:1 sas:1 matlab:1"},
    {"Data Analyst", "Analytics", 6, 2, 5,
     "sql:10 excel:8 tableau:5 power-bi:5 python:5 looker:3 r:3 bigquery:2 pandas:2 "
     "snowflake:1 sas:1"},
    {"Analytics Engineer", "Analytics", 3, 3, 5,
     "sql:10 dbt:9 snowflake:6 bigquery:4 looker:4 python:4 airflow:3 redshift:2 git:2 "
     "databricks:2 tableau:1"},
    {"DevOps Engineer", "Platform", 6, 3, 6,
     "kubernetes:8 docker:7 terraform:7 aws:7 azure:3 gcp:3 ansible:4 jenkins:3 linux:5 "
     "bash:4 python:3 go:2 helm:2 prometheus:2 grafana:2 github-actions:2 gitlab-ci:2 git:2 "
     "argocd:1"},
    {"Site Reliability Engineer", "Reliability", 3, 3, 6,
     "kubernetes:7 linux:6 go:4 python:4 prometheus:4 grafana:3 terraform:4 aws:5 gcp:2 "
     "docker:4 bash:3 kafka:1 elasticsearch:2"},
    {"Cloud Architect", "Cloud", 3, 3, 5,
     "aws:8 azure:6 gcp:5 terraform:6 kubernetes:5 docker:3 python:2 dynamodb:1 linux:2"},
    {"Platform Engineer", "Platform", 3, 3, 6,
     "kubernetes:8 go:5 terraform:5 aws:5 docker:4 helm:3 argocd:2 python:2 linux:3 kafka:2"},
    {"iOS Developer", "Mobile", 2, 2, 4, "ios:9 swift:9 objective-c:2 git:1 graphql:1 flutter:1"},
    {"Android Developer", "Mobile", 2, 2, 4, "android:9 kotlin:9 java:4 git:1 flutter:1"},
    {"Mobile Developer", "Mobile", 2, 2, 4,
     "react-native:6 flutter:5 ios:5 android:5 swift:3 kotlin:3 typescript:2 dart:1"},
    {"Java Developer", "Engineering", 3, 2, 5,
     "java:10 spring:7 sql:3 postgresql:2 mysql:2 kafka:2 docker:2 aws:2 kubernetes:1 jenkins:1"},
    {"Python Developer", "Engineering", 3, 2, 5,
     "python:10 django:5 flask:4 fastapi:4 postgresql:3 docker:2 aws:2 pandas:1 redis:1"},
    {".NET Developer", "Engineering", 2, 2, 4, "dotnet:10 csharp:9 azure:4 sql:4 angular:2"},
    {"C++ Engineer", "Engineering", 1.5, 2, 4, "cpp:10 c:4 linux:4 python:2 git:1"},
    {"Embedded Software Engineer", "Embedded", 1.5, 2, 4, "c:9 cpp:7 linux:4 rust:2 python:2"},
    {"Golang Engineer", "Engineering", 1, 2, 4,
     "go:10 kubernetes:4 docker:3 postgresql:3 kafka:2 redis:2"},
    {"Rust Engineer", "Engineering", 0.6, 2, 4, "rust:10 linux:3 cpp:2 go:2 kubernetes:1"},
    {"PHP Developer", "Web", 1, 2, 4, "php:10 mysql:5 javascript:3 jquery:2 docker:1"},
    {"Ruby on Rails Developer", "Web", 0.8, 2, 4, "rails:10 ruby:8 postgresql:4 redis:2"},
    {"QA Automation Engineer", "Quality", 2, 2, 4,
     "selenium:6 cypress:4 python:4 java:3 javascript:2 jenkins:2 jira:2 git:1"},
    {"Security Engineer", "Security", 2, 2, 4,
     "python:5 linux:6 aws:4 kubernetes:2 bash:3 terraform:2 go:1"},
    {"Database Administrator", "Data", 1.2, 2, 4,
     "postgresql:7 mysql:6 sql:8 mongodb:3 cassandra:2 redis:2 linux:3 bash:2"},
    {"BI Developer", "Business Intelligence", 1.5, 2, 4,
     "power-bi:8 tableau:6 sql:9 excel:4 looker:2 azure:2"},
    {"Big Data Engineer", "Data", 1.5, 3, 5,
     "hadoop:7 spark:8 hive:6 scala:5 kafka:4 java:3 python:3 cassandra:2 flink:2"},
    {"Product Manager", "Product", 3, 0, 3, "jira:6 sql:4 figma:3 excel:3 tableau:1"},
    {"Engineering Manager", "Engineering", 2, 1, 3,
     "java:3 python:3 go:2 aws:3 kubernetes:2 typescript:2"},
    {"Technical Program Manager", "Programs", 1, 0, 2, "jira:6 sql:2 aws:2"},
    {"UX Designer", "Design", 1.5, 0, 2, "figma:9 html:2 css:2"},
    {"Financial Analyst", "Finance", 2, 1, 3, "excel:10 sql:3 power-bi:3 sap:2 python:1"},
    {"Accountant", "Finance", 1.5, 0, 2, "excel:10 sap:3"},
    {"Sales Representative", "Sales", 2, 0, 2, "salesforce:8 excel:4"},
    {"Account Executive", "Sales", 1.5, 0, 2, "salesforce:9 excel:3"},
    {"Marketing Manager", "Marketing", 1.5, 0, 3, "excel:4 sql:2 salesforce:2 tableau:1"},
    {"Customer Success Manager", "Customer Success", 1.2, 0, 2, "salesforce:6 excel:3 jira:2"},
    {"HR Business Partner", "People", 1, 0, 1, "excel:6"},
    {"Registered Nurse", "Nursing", 1, 0, 0, ""},
    {"Operations Manager", "Operations", 1, 0, 2, "excel:7 sap:3 sql:1"},
};
#define NROLES GTP_ARRAY_LEN(roles)

/* Seniority words (the levels of docs/events.md: Intern, Junior, Mid, Senior, Lead,
 * Principal, Director). area: "Head of Data" style titles. */
static const struct {
    const char *pre, *post;
    double w;
    int area; /* 1: "<pre><area>" instead of the role name */
} seniority[] = {
    {"", "", 30, 0},
    {"Senior ", "", 20, 0},
    {"Sr. ", "", 5, 0},
    {"Junior ", "", 7, 0},
    {"Jr. ", "", 3, 0},
    {"Lead ", "", 5, 0},
    {"Staff ", "", 3, 0},
    {"Principal ", "", 3, 0},
    {"", " Intern", 2, 0},
    {"Intern - ", "", 1, 0},
    {"", " II", 3, 0},
    {"", " III", 1, 0},
    {"Mid-level ", "", 2, 0},
    {"Graduate ", "", 1.5, 0},
    {"Head of ", "", 1.5, 1},
    {"Director of ", "", 1.5, 1},
    {"Senior ", " (Remote)", 1, 0},
    {"", " - Contract", 1, 0},
};

/* ---- companies ---------------------------------------------------------------- */

static const char *const company_fixed[] = {
    "Tech Corp",
    "Globex",
    "Initech",
    "Umbrella Analytics",
    "Hooli",
    "Stark Industries",
    "Wayne Enterprises",
    "Acme Corp",
    "Cyberdyne Systems",
    "Soylent Foods",
    "Wonka Industries",
    "Vandelay Industries",
    "Pied Piper",
    "Aperture Science",
    "Massive Dynamic",
    "Oscorp",
    "Nakatomi Trading",
    "Tyrell Corporation",
    "Black Mesa Research",
    "Gringotts Bank",
    "Dunder Mifflin",
    "Monarch Solutions",
    "Smith & Jones Consulting",
    "Nordlicht GmbH",
    "Sakura Digital K.K.",
    "Maple Leaf Data Inc.",
    "Outback Cloud Pty Ltd",
    "Bharat Softworks",
    "Samba Pagamentos",
    "Kiwi Robotics",
    "Fjord Fintech AB",
    "Tulip Logistics B.V.",
};
static const char *const company_pre[] = {
    "Blue",     "Quantum", "Nimbus", "Bright",  "Polar",   "Vertex",   "Nova",   "Atlas",
    "Cobalt",   "Lumen",   "Apex",   "Silver",  "Redwood", "Helix",    "Orbit",  "Pixel",
    "Summit",   "Zephyr",  "Ember",  "Stellar", "Harbor",  "Granite",  "Falcon", "Cedar",
    "Borealis", "Delta",   "Echo",   "Iron",    "Lotus",   "Meridian",
};
static const char *const company_suf[] = {
    "Labs",     "Systems",   "Analytics",    "Minds",    "Bank",   "Health",
    "Retail",   "Logistics", "Technologies", "Software", "Data",   "Cloud",
    "Networks", "Insurance", "Games",        "Media",    "Energy", "Robotics",
};

/* ---- locations ------------------------------------------------------------------ */

struct location {
    const char *text;
    const char *country; /* region the enrichment should find (UK for Britain) */
    double w;
    double remote_p; /* chance a posting there is flagged remote anyway */
};

static const struct location locations[] = {
    /* United States: "City, ST, USA" and "City, ST" */
    {"San Francisco, CA, USA", "US", 6, 0.2},
    {"New York, NY, USA", "US", 6, 0.15},
    {"New York, NY", "US", 3, 0.15},
    {"Seattle, WA", "US", 4, 0.2},
    {"Austin, TX", "US", 3, 0.2},
    {"Boston, MA, USA", "US", 2.5, 0.15},
    {"Chicago, IL", "US", 2.5, 0.15},
    {"Denver, CO", "US", 1.5, 0.25},
    {"Atlanta, GA, USA", "US", 1.5, 0.15},
    {"Mountain View, CA", "US", 1.5, 0.1},
    {"Raleigh, NC", "US", 1, 0.2},
    {"Miami, FL", "US", 1, 0.2},
    {"Washington, DC", "US", 1, 0.1},
    {"Remote - US", "US", 2, 1.0},
    /* United Kingdom */
    {"London, UK", "UK", 6, 0.15},
    {"London, United Kingdom", "UK", 2, 0.15},
    {"Manchester, UK", "UK", 1.5, 0.15},
    {"Edinburgh, UK", "UK", 1, 0.15},
    {"Cambridge, United Kingdom", "UK", 0.8, 0.1},
    {"Remote - UK", "UK", 2, 1.0},
    /* Europe */
    {"Berlin, Germany", "DE", 4, 0.15},
    {"Munich, Germany", "DE", 2, 0.1},
    {"Remote (Germany)", "DE", 0.8, 1.0},
    {"Paris, France", "FR", 3, 0.1},
    {"Amsterdam, Netherlands", "NL", 3, 0.15},
    {"Dublin, Ireland", "IE", 2, 0.15},
    {"Madrid, Spain", "ES", 1.5, 0.1},
    {"Barcelona, Spain", "ES", 1.5, 0.15},
    {"Lisbon, Portugal", "PT", 1.5, 0.2},
    {"Zürich, Switzerland", "CH", 1.5, 0.05},
    {"Stockholm, Sweden", "SE", 1.5, 0.15},
    {"Copenhagen, Denmark", "DK", 1, 0.1},
    {"Oslo, Norway", "NO", 0.8, 0.1},
    {"Helsinki, Finland", "FI", 0.8, 0.1},
    {"Warsaw, Poland", "PL", 1.5, 0.2},
    {"Kraków, Poland", "PL", 1, 0.2},
    {"Prague, Czech Republic", "CZ", 1, 0.1},
    {"Vienna, Austria", "AT", 0.8, 0.1},
    {"Brussels, Belgium", "BE", 0.8, 0.1},
    {"Milan, Italy", "IT", 1, 0.1},
    {"Bucharest, Romania", "RO", 0.8, 0.2},
    {"Kyiv, Ukraine", "UA", 0.6, 0.4},
    {"Tallinn, Estonia", "EE", 0.5, 0.3},
    {"Athens, Greece", "GR", 0.5, 0.2},
    {"Istanbul, Turkey", "TR", 0.8, 0.1},
    /* Americas */
    {"Toronto, Canada", "CA", 3, 0.15},
    {"Vancouver, BC, Canada", "CA", 1.5, 0.15},
    {"Montreal, Canada", "CA", 1, 0.1},
    {"São Paulo, Brazil", "BR", 2, 0.1},
    {"Mexico City, Mexico", "MX", 1.5, 0.1},
    {"Buenos Aires, Argentina", "AR", 1, 0.3},
    {"Bogotá, Colombia", "CO", 0.8, 0.2},
    {"Santiago, Chile", "CL", 0.6, 0.1},
    /* Asia-Pacific */
    {"Bengaluru", "IN", 3, 0.1},
    {"Bangalore, India", "IN", 2, 0.1},
    {"Hyderabad, India", "IN", 2, 0.1},
    {"Pune, India", "IN", 1, 0.1},
    {"Singapore", "SG", 2.5, 0.05},
    {"Tokyo, Japan", "JP", 2, 0.05},
    {"Seoul, South Korea", "KR", 1, 0.05},
    {"Shanghai, China", "CN", 1, 0.02},
    {"Shenzhen, China", "CN", 0.8, 0.02},
    {"Hong Kong", "HK", 0.8, 0.05},
    {"Taipei, Taiwan", "TW", 0.6, 0.05},
    {"Sydney, Australia", "AU", 2, 0.15},
    {"Melbourne, Australia", "AU", 1.2, 0.15},
    {"Auckland, New Zealand", "NZ", 0.6, 0.15},
    {"Manila, Philippines", "PH", 0.6, 0.2},
    {"Jakarta, Indonesia", "ID", 0.6, 0.1},
    {"Ho Chi Minh City, Vietnam", "VN", 0.6, 0.1},
    {"Kuala Lumpur, Malaysia", "MY", 0.5, 0.1},
    /* Middle East and Africa */
    {"Tel Aviv, Israel", "IL", 1.5, 0.1},
    {"Dubai, United Arab Emirates", "AE", 1, 0.05},
    {"Cape Town, South Africa", "ZA", 0.8, 0.2},
    {"Lagos, Nigeria", "NG", 0.8, 0.3},
    {"Nairobi, Kenya", "KE", 0.6, 0.3},
    {"Cairo, Egypt", "EG", 0.5, 0.2},
    /* remote without a country */
    {"Remote", "REMOTE", 4, 1.0},
};
#define NLOCS GTP_ARRAY_LEN(locations)

/* ---- description templates -------------------------------------------------------
 * {T} title, {C} company, {P} product phrase, {S} the skill list of the
 * sentence ("A, B, and C"). */

static const char *const intros[] = {
    "{C} is hiring a {T} to help us build {P}.",
    "Join {C} as a {T}!",
    "We are looking for a {T} to join our team working on {P}.",
    "About the role: as a {T} at {C} you will design and ship {P}.",
    "{C} is growing fast and needs a {T}.",
    "Are you a {T} who loves solving hard problems? {C} wants to hear from you.",
    "Our team at {C} builds {P}, and we need a {T} to take it to the next level.",
};
static const char *const products[] = {
    "a real-time payments platform",
    "our recommendation engine",
    "the next generation of our "
    "data platform",
    "internal developer tooling",
    "a mobile banking app",
    "a streaming analytics "
    "pipeline",
    "our customer-facing web app",
    "a healthcare scheduling system",
    "logistics "
    "optimisation services",
    "a marketplace for freelancers",
    "our search and ranking stack",
    "our model training platform",
    "a cloud cost management product",
    "an e-commerce checkout",
};
static const char *const must_tpl[] = {
    "We need {S} expert...",
    "You have hands-on experience with {S}.",
    "Requirements: 3+ years of {S}.",
    "Our stack: {S}.",
    "Strong {S} skills required.",
    "You will work daily with {S}.",
    "Must have: solid knowledge of {S}.",
    "Tech stack includes {S}.",
};
static const char *const nice_tpl[] = {
    "Nice to have: {S}.",
    "Experience with {S} is a plus.",
    "Bonus points for {S}.",
    "Familiarity with {S} would be great.",
};
static const char *const duties[] = {
    "You will own services end to end, from design to production.",
    "You will collaborate with product managers, designers and analysts.",
    "You will mentor engineers and review code.",
    "You will build reliable pipelines and keep them healthy.",
    "You will help define our architecture and engineering standards.",
    "You will work in small, autonomous teams with short release cycles.",
    "You will talk to customers and turn their needs into features.",
};
static const char *const benefits[] = {
    "We offer flexible hours, equity and a learning budget.",
    "Competitive salary, 30 days of vacation and a hybrid setup.",
    "Great benefits including health insurance and a pension plan.",
    "We are an equal opportunity employer.",
    "Visa sponsorship available.",
    "Apply now and tell us what you would build first.",
    "",
};
/* Ordinary words that look like skills (docs/events.md): the matcher must not count them. */
static const char *const traps[] = {
    "You go above and beyond for our customers.",
    "You excel at communicating with stakeholders.",
    "Help us spark innovation across the business.",
    "Our R&D team ships every week.",
    "We just closed our Series C.",
    "Start date: spring 2025.",
    "Customers trust us with their most sensitive data.",
    "You are ready to go the extra mile and excel at teamwork.",
    "Our internship cohort starts in spring.",
};

/* ---- the model ------------------------------------------------------------------------ */

struct stack_entry {
    int skill;
    double w;
};

struct model {
    struct stack_entry *stack[NROLES];
    /* the title names the stack's first skill ("Java Developer"): always mention it */
    bool anchored[NROLES];
    size_t nstack[NROLES];
    struct rng_alias role_pick, sen_pick, loc_pick;
    /* companions of each skill: comp_first[skill] .. comp_first[skill + 1] into comp_* */
    size_t comp_first[NSKILLS + 1];
    int comp_to[GTP_ARRAY_LEN(companions)];
    double comp_p[GTP_ARRAY_LEN(companions)];
    int spark, python;
    /* trend multipliers, refreshed once per simulated hour */
    int64_t trend_hour;
    double trend[NSKILLS];
    struct rng_alias stack_pick[NROLES]; /* stack weights x trend, per role */
    uint8_t nforms[NSKILLS];
};

int model_skill_find(const char *id)
{
    for (size_t i = 0; i < NSKILLS; i++)
        if (strcmp(skills[i].id, id) == 0)
            return (int)i;
    return -1;
}

size_t model_skill_count(void)
{
    return NSKILLS;
}

const char *model_skill_id(int idx)
{
    return idx >= 0 && (size_t)idx < NSKILLS ? skills[idx].id : NULL;
}

/* Trends are anchored at a fixed date so a seed reproduces them. */
#define TREND_EPOCH_US 1704067200000000LL /* 2024-01-01T00:00:00Z */
#define DAY_US         86400000000LL

double model_trend(int idx, int64_t sim_us)
{
    double months = (double)(sim_us - TREND_EPOCH_US) / (30.0 * (double)DAY_US);
    double f = exp(skills[idx].trend * months);
    return f < 0.2 ? 0.2 : f > 5.0 ? 5.0 : f;
}

double model_intensity(int64_t sim_us)
{
    int64_t day = sim_us >= 0 ? sim_us / DAY_US : (sim_us - DAY_US + 1) / DAY_US;
    double hour = (double)(sim_us - day * DAY_US) / 3600e6;
    /* 1970-01-01 was a Thursday: weekday 0 = Monday. */
    int wday = (int)(((day + 3) % 7 + 7) % 7);
    double daily = 1.0 + 0.55 * sin(2.0 * M_PI * (hour - 9.0) / 24.0); /* peak 15:00 UTC */
    double weekly = wday >= 5 ? 0.45 : 1.22;                           /* 5 * 1.22 + 2 * 0.45 = 7 */
    return daily * weekly;
}

struct model *model_new(void)
{
    struct model *m = gtp_xcalloc(1, sizeof(*m));
    double w[NLOCS > NROLES ? NLOCS : NROLES];
    for (size_t r = 0; r < NROLES; r++)
        w[r] = roles[r].weight;
    rng_alias_build(&m->role_pick, w, NROLES);
    for (size_t r = 0; r < NROLES; r++) {
        /* parse "id:w id:w"; unknown ids are a table bug, caught by the tests */
        size_t cap = 8;
        m->stack[r] = gtp_xmalloc(cap * sizeof(struct stack_entry));
        const char *s = roles[r].stack;
        while (*s) {
            while (*s == ' ')
                s++;
            if (!*s)
                break;
            const char *colon = strchr(s, ':');
            if (!colon)
                break;
            char id[32];
            size_t n = (size_t)(colon - s) < sizeof(id) - 1 ? (size_t)(colon - s) : sizeof(id) - 1;
            memcpy(id, s, n);
            id[n] = '\0';
            char *end;
            double sw = strtod(colon + 1, &end);
            s = end;
            int idx = model_skill_find(id);
            if (idx < 0 || sw <= 0)
                continue;
            if (m->nstack[r] == cap) {
                cap *= 2;
                m->stack[r] = gtp_xrealloc(m->stack[r], cap * sizeof(struct stack_entry));
            }
            m->stack[r][m->nstack[r]++] = (struct stack_entry){idx, sw};
        }
        m->anchored[r] =
            m->nstack[r] && strstr(roles[r].name, skills[m->stack[r][0].skill].forms[0]);
    }
    for (size_t i = 0; i < GTP_ARRAY_LEN(seniority); i++)
        w[i] = seniority[i].w;
    rng_alias_build(&m->sen_pick, w, GTP_ARRAY_LEN(seniority));
    for (size_t i = 0; i < NLOCS; i++)
        w[i] = locations[i].w;
    rng_alias_build(&m->loc_pick, w, NLOCS);
    size_t nc = 0;
    for (size_t sk = 0; sk < NSKILLS; sk++) {
        m->comp_first[sk] = nc;
        for (size_t i = 0; i < GTP_ARRAY_LEN(companions); i++) {
            if (model_skill_find(companions[i].from) != (int)sk)
                continue;
            m->comp_to[nc] = model_skill_find(companions[i].to);
            m->comp_p[nc] = companions[i].p;
            nc++;
        }
    }
    m->comp_first[NSKILLS] = nc;
    m->spark = model_skill_find("spark");
    m->python = model_skill_find("python");
    for (size_t i = 0; i < NSKILLS; i++)
        while (m->nforms[i] < 4 && skills[i].forms[m->nforms[i]])
            m->nforms[i]++;
    m->trend_hour = INT64_MIN;
    return m;
}

void model_free(struct model *m)
{
    if (!m)
        return;
    for (size_t r = 0; r < NROLES; r++) {
        free(m->stack[r]);
        rng_alias_fini(&m->stack_pick[r]);
    }
    rng_alias_fini(&m->role_pick);
    rng_alias_fini(&m->sen_pick);
    rng_alias_fini(&m->loc_pick);
    free(m);
}

void posting_init(struct posting *p)
{
    memset(p, 0, sizeof(*p));
    gtp_buf_init(&p->title_buf, 128);
    gtp_buf_init(&p->company_buf, 128);
    gtp_buf_init(&p->desc, 2048);
}

void posting_fini(struct posting *p)
{
    gtp_buf_fini(&p->title_buf);
    gtp_buf_fini(&p->company_buf);
    gtp_buf_fini(&p->desc);
}

static const char *pick(struct rng *r, const char *const *arr, size_t n)
{
    return arr[rng_below(r, (uint32_t)n)];
}
#define PICK(r, arr) pick((r), (arr), GTP_ARRAY_LEN(arr))

static bool has_skill(const struct posting *p, int idx)
{
    for (size_t i = 0; i < p->nskills; i++)
        if (p->skills[i] == idx)
            return true;
    return false;
}

static void add_skill(const struct model *m, struct posting *p, struct rng *r, int idx)
{
    if (idx < 0 || p->nskills >= MODEL_MAX_SKILLS || has_skill(p, idx))
        return;
    const struct skill *sk = &skills[idx];
    size_t nforms = m->nforms[idx];
    /* The first form is the usual spelling; the others show up a third of the time. */
    size_t f = nforms > 1 && rng_chance(r, 0.33) ? 1 + rng_below(r, (uint32_t)(nforms - 1)) : 0;
    p->skills[p->nskills] = idx;
    p->forms[p->nskills] = sk->forms[f];
    p->nskills++;
}

/* Write forms[from..to) as "A", "A and B" or "A, B, and C" (Oxford comma half
 * the time, as real postings vary). */
static void put_list(struct gtp_buf *b, struct rng *r, const struct posting *p, size_t from,
                     size_t to)
{
    bool oxford = rng_chance(r, 0.5);
    for (size_t i = from; i < to; i++) {
        if (i > from) {
            if (i + 1 == to)
                gtp_buf_puts(b, (to - from > 2 && oxford) ? ", and " : " and ");
            else
                gtp_buf_put(b, ", ", 2);
        }
        gtp_buf_puts(b, p->forms[i]);
    }
}

static void put_tpl(struct gtp_buf *b, struct rng *r, const char *tpl, const struct posting *p,
                    const char *product, size_t from, size_t to)
{
    for (const char *s = tpl; *s; s++) {
        if (*s != '{' || !s[1] || s[2] != '}') {
            const char *brace = strchr(s + 1, '{');
            size_t n = brace ? (size_t)(brace - s) : strlen(s);
            gtp_buf_put(b, s, n);
            s += n - 1;
            continue;
        }
        switch (s[1]) {
        case 'T':
            gtp_buf_puts(b, p->title);
            break;
        case 'C':
            gtp_buf_puts(b, p->company);
            break;
        case 'P':
            gtp_buf_puts(b, product);
            break;
        case 'S':
            put_list(b, r, p, from, to);
            break;
        }
        s += 2;
    }
}

static void refresh_trends(struct model *m, int64_t sim_us)
{
    int64_t hour = sim_us / 3600000000LL;
    if (hour == m->trend_hour)
        return;
    m->trend_hour = hour;
    for (size_t i = 0; i < NSKILLS; i++)
        m->trend[i] = model_trend((int)i, sim_us);
    for (size_t r = 0; r < NROLES; r++) {
        double w[64];
        size_t n = m->nstack[r] < 64 ? m->nstack[r] : 64;
        for (size_t i = 0; i < n; i++)
            w[i] = m->stack[r][i].w * m->trend[m->stack[r][i].skill];
        if (n)
            rng_alias_build(&m->stack_pick[r], w, n);
    }
}

void model_make(struct model *m, struct rng *r, int64_t sim_us, struct posting *p)
{
    refresh_trends(m, sim_us);

    const struct role *role = &roles[rng_alias_pick(r, &m->role_pick)];
    size_t ri = (size_t)(role - roles);
    size_t si = rng_alias_pick(r, &m->sen_pick);
    const struct location *loc = &locations[rng_alias_pick(r, &m->loc_pick)];

    /* title */
    gtp_buf_reset(&p->title_buf);
    gtp_buf_puts(&p->title_buf, seniority[si].pre);
    gtp_buf_puts(&p->title_buf, seniority[si].area ? role->area : role->name);
    gtp_buf_puts(&p->title_buf, seniority[si].post);
    p->title_len = p->title_buf.len;
    gtp_buf_putc(&p->title_buf, '\0');
    p->title = p->title_buf.p;

    /* company: a fixed name a quarter of the time, else prefix + suffix */
    if (rng_chance(r, 0.25)) {
        p->company = PICK(r, company_fixed);
        p->company_len = strlen(p->company);
    } else {
        gtp_buf_reset(&p->company_buf);
        gtp_buf_puts(&p->company_buf, PICK(r, company_pre));
        gtp_buf_putc(&p->company_buf, ' ');
        gtp_buf_puts(&p->company_buf, PICK(r, company_suf));
        p->company_len = p->company_buf.len;
        gtp_buf_putc(&p->company_buf, '\0');
        p->company = p->company_buf.p;
    }
    p->location = loc->text;
    p->country = loc->country;
    p->is_remote = loc->remote_p >= 1.0 || rng_chance(r, loc->remote_p);
    uint32_t src = rng_below(r, 100);
    p->source = src < 80 ? "linkedin_sim" : src < 93 ? "indeed_sim" : "glassdoor_sim";

    /* skills: weighted draws without replacement from the role's stack, with
     * popularity drifting over simulated time, then companions */
    p->nskills = 0;
    int want = role->min_sk + (int)rng_below(r, (uint32_t)(role->max_sk - role->min_sk + 1));
    size_t ns = m->nstack[ri];
    if (ns && m->anchored[ri])
        add_skill(m, p, r, m->stack[ri][0].skill);
    if (ns && want > 0)
        for (int tries = 0; (int)p->nskills < want && tries < want * 4; tries++)
            add_skill(m, p, r, m->stack[ri][rng_alias_pick(r, &m->stack_pick[ri])].skill);
    size_t base = p->nskills;
    for (size_t i = 0; i < base; i++) {
        int sk = p->skills[i];
        for (size_t c = m->comp_first[sk]; c < m->comp_first[sk + 1]; c++)
            if (rng_chance(r, m->comp_p[c]))
                add_skill(m, p, r, m->comp_to[c]);
    }
    /* "PySpark" names spark and python at once */
    for (size_t i = 0; i < p->nskills; i++)
        if (p->skills[i] == m->spark && has_skill(p, m->python) && rng_chance(r, 0.3))
            p->forms[i] = "PySpark";

    /* description */
    struct gtp_buf *d = &p->desc;
    gtp_buf_reset(d);
    const char *product = PICK(r, products);
    put_tpl(d, r, PICK(r, intros), p, product, 0, 0);
    size_t nmust = p->nskills;
    if (p->nskills >= 3)
        nmust = p->nskills - rng_below(r, (uint32_t)(p->nskills / 2));
    if (nmust > 0) {
        gtp_buf_putc(d, ' ');
        put_tpl(d, r, PICK(r, must_tpl), p, product, 0, nmust);
    }
    if (nmust < p->nskills) {
        gtp_buf_putc(d, ' ');
        put_tpl(d, r, PICK(r, nice_tpl), p, product, nmust, p->nskills);
    }
    if (rng_chance(r, 0.6)) {
        gtp_buf_putc(d, ' ');
        gtp_buf_puts(d, PICK(r, duties));
    }
    if (rng_chance(r, 0.15)) {
        gtp_buf_putc(d, ' ');
        gtp_buf_puts(d, PICK(r, traps));
    }
    const char *benefit = PICK(r, benefits);
    if (*benefit) {
        gtp_buf_putc(d, ' ');
        gtp_buf_puts(d, benefit);
    }
    gtp_buf_putc(d, '\0');
    d->len--; /* keep it a C string, length without the NUL */
}
