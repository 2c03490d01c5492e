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
};

/* The first 70 are the fixed ids of docs/events.md; the rest add realistic noise. */
static const struct skill skills[] = {
    {"python", {"Python", "Python 3", "python"}},
    {"java", {"Java", "Java 17", "Java/JVM"}},
    {"javascript", {"JavaScript", "Javascript", "modern JavaScript (ES6+)"}},
    {"typescript", {"TypeScript", "Typescript"}},
    {"go", {"Go", "Golang", "golang", "Go (Golang)"}},
    {"rust", {"Rust", "Rust"}},
    {"c", {"C", "embedded C"}},
    {"cpp", {"C++", "modern C++"}},
    {"csharp", {"C#"}},
    {"scala", {"Scala"}},
    {"kotlin", {"Kotlin"}},
    {"swift", {"Swift"}},
    {"ruby", {"Ruby"}},
    {"php", {"PHP"}},
    {"r", {"R", "R (tidyverse)"}},
    {"sql", {"SQL", "advanced SQL"}},
    {"bash", {"Bash", "shell scripting (Bash)"}},
    {"spark", {"Spark", "Apache Spark"}},
    {"kafka", {"Kafka", "Apache Kafka"}},
    {"flink", {"Flink", "Apache Flink"}},
    {"hadoop", {"Hadoop", "Hadoop (HDFS)"}},
    {"hive", {"Hive", "Apache Hive"}},
    {"airflow", {"Airflow", "Apache Airflow"}},
    {"dbt", {"dbt"}},
    {"snowflake", {"Snowflake"}},
    {"databricks", {"Databricks"}},
    {"bigquery", {"BigQuery"}},
    {"redshift", {"Redshift", "Amazon Redshift"}},
    {"pandas", {"pandas", "Pandas"}},
    {"numpy", {"NumPy", "numpy"}},
    {"postgresql", {"PostgreSQL", "Postgres"}},
    {"mysql", {"MySQL"}},
    {"mongodb", {"MongoDB"}},
    {"redis", {"Redis"}},
    {"elasticsearch", {"Elasticsearch", "ElasticSearch"}},
    {"cassandra", {"Cassandra", "Apache Cassandra"}},
    {"dynamodb", {"DynamoDB"}},
    {"aws", {"AWS", "Amazon Web Services (AWS)"}},
    {"azure", {"Azure", "Microsoft Azure"}},
    {"gcp", {"GCP", "Google Cloud Platform", "Google Cloud"}},
    {"docker", {"Docker"}},
    {"kubernetes", {"Kubernetes", "k8s", "K8s"}},
    {"terraform", {"Terraform"}},
    {"ansible", {"Ansible"}},
    {"jenkins", {"Jenkins"}},
    {"git", {"Git", "git"}},
    {"linux", {"Linux"}},
    {"react", {"React", "React.js", "ReactJS"}},
    {"react-native", {"React Native"}},
    {"angular", {"Angular"}},
    {"vue", {"Vue.js", "Vue"}},
    {"nodejs", {"Node.js", "NodeJS"}},
    {"django", {"Django"}},
    {"flask", {"Flask"}},
    {"fastapi", {"FastAPI"}},
    {"spring", {"Spring Boot", "Spring"}},
    {"rails", {"Rails"}},
    {"dotnet", {".NET", ".NET Core"}},
    {"graphql", {"GraphQL"}},
    {"pytorch", {"PyTorch"}},
    {"tensorflow", {"TensorFlow"}},
    {"scikit-learn", {"scikit-learn", "sklearn"}},
    {"machine-learning", {"machine learning", "Machine Learning"}},
    {"tableau", {"Tableau"}},
    {"power-bi", {"Power BI", "PowerBI"}},
    {"excel", {"Excel", "Microsoft Excel", "advanced Excel"}},
    {"looker", {"Looker"}},
    {"android", {"Android"}},
    {"ios", {"iOS"}},
    {"flutter", {"Flutter"}},
    /* beyond the fixed ids */
    {"jquery", {"jQuery"}},
    {"perl", {"Perl"}},
    {"html", {"HTML5", "HTML"}},
    {"css", {"CSS", "CSS3"}},
    {"tailwind", {"Tailwind CSS"}},
    {"nextjs", {"Next.js"}},
    {"redux", {"Redux"}},
    {"jest", {"Jest"}},
    {"cypress", {"Cypress"}},
    {"selenium", {"Selenium"}},
    {"grafana", {"Grafana"}},
    {"prometheus", {"Prometheus"}},
    {"helm", {"Helm"}},
    {"argocd", {"Argo CD"}},
    {"github-actions", {"GitHub Actions"}},
    {"gitlab-ci", {"GitLab CI"}},
    {"rabbitmq", {"RabbitMQ"}},
    {"llm", {"LLMs", "large language models"}},
    {"nlp", {"NLP"}},
    {"mlflow", {"MLflow"}},
    {"keras", {"Keras"}},
    {"xgboost", {"XGBoost"}},
    {"salesforce", {"Salesforce"}},
    {"sap", {"SAP"}},
    {"jira", {"Jira"}},
    {"figma", {"Figma"}},
    {"matlab", {"MATLAB"}},
    {"sas", {"SAS"}},
    {"objective-c", {"Objective-C"}},
    {"dart", {"Dart"}},
    /* emerging in taxonomy/market.tsv: near zero at --start */
    {"langchain", {"LangChain"}},
    {"rag", {"RAG", "retrieval-augmented generation"}},
    {"vector-db", {"vector databases", "a vector database"}},
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
 * Principal, Director). area: "Head of Data" style titles; junior: scaled by the
 * country's and the role's junior multipliers (taxonomy/market.tsv). */
static const struct {
    const char *pre, *post;
    double w;
    int area; /* 1: "<pre><area>" instead of the role name */
    int junior;
} seniority[] = {
    {"", "", 30, 0, 0},
    {"Senior ", "", 20, 0, 0},
    {"Sr. ", "", 5, 0, 0},
    {"Junior ", "", 7, 0, 1},
    {"Jr. ", "", 3, 0, 1},
    {"Lead ", "", 5, 0, 0},
    {"Staff ", "", 3, 0, 0},
    {"Principal ", "", 3, 0, 0},
    {"", " Intern", 2, 0, 1},
    {"Intern - ", "", 1, 0, 1},
    {"", " II", 3, 0, 0},
    {"", " III", 1, 0, 0},
    {"Mid-level ", "", 2, 0, 0},
    {"Graduate ", "", 1.5, 0, 1},
    {"Head of ", "", 1.5, 1, 0},
    {"Director of ", "", 1.5, 1, 0},
    {"Senior ", " (Remote)", 1, 0, 0},
    {"", " - Contract", 1, 0, 0},
};
#define NSEN GTP_ARRAY_LEN(seniority)

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
    const struct market *mk; /* borrowed */
    uint64_t seed;
    int64_t start_us;
    size_t nc, nsk; /* countries of the market, skills */
    struct stack_entry *stack[NROLES];
    /* the title names the stack's first skill ("Java Developer"): always mention it */
    bool anchored[NROLES];
    size_t nstack[NROLES];
    bool *in_stack; /* [role * nsk + skill]: an employer's stack skill fits the role */
    struct rng_alias role_pick;
    /* employers weighted by the activity of their office now: entries 0..n-1
     * post at home, n..n+multinationals-1 are the multinationals abroad (the
     * country then from abroad_pick); rebuilt with the activity */
    struct rng_alias employer_pick, abroad_pick;
    double *emp_w;
    double *target;              /* [country]: share of the locations' weight */
    struct rng_alias *city_pick; /* [country]: its locations */
    int *city_loc;               /* location indexes, city_first[c] .. city_first[c + 1] */
    size_t *city_first;
    int *loc_country; /* [location]: market country index, -1 for "Remote" */
    int anywhere;     /* the "Remote" location */
    /* seniority: junior or not (by country and role), then the word within */
    struct rng_alias sen_junior, sen_other;
    int sen_junior_idx[NSEN], sen_other_idx[NSEN];
    double sen_junior_w, sen_other_w;
    /* companions of each skill: comp_first[skill] .. comp_first[skill + 1] into comp_* */
    size_t comp_first[NSKILLS + 1];
    int comp_to[GTP_ARRAY_LEN(companions)];
    double comp_p[GTP_ARRAY_LEN(companions)];
    int spark, python;
    /* stationary stacks, each skill oversampled by the largest weight it can
     * reach; a posting keeps it with probability weight now / that maximum */
    struct rng_alias stack_pick[NROLES];
    int64_t keep_hour;
    /* [country * nsk + skill]: keep probability x 2^32, UINT32_MAX = always;
     * 32-bit, so the whole table stays in the first-level cache */
    uint32_t *keep;
    double *keep_scratch;
    int64_t act_slot;
    double act[MARKET_MAX_COUNTRIES]; /* activity / peak, per 5-minute slot */
    double intensity;
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

int model_role_find(const char *name)
{
    for (size_t i = 0; i < NROLES; i++)
        if (strcmp(roles[i].name, name) == 0)
            return (int)i;
    return -1;
}

size_t model_role_count(void)
{
    return NROLES;
}

size_t model_location_count(void)
{
    return NLOCS;
}

const char *model_location_country(size_t i)
{
    return i < NLOCS ? locations[i].country : NULL;
}

double model_country_weight(const char *code)
{
    double w = 0;
    for (size_t i = 0; i < NLOCS; i++)
        if (strcmp(locations[i].country, code) == 0)
            w += locations[i].w;
    return w;
}

#define SLOT_US 300000000LL /* activity and intensity are refreshed every 5 simulated minutes */

static void refresh_activity(struct model *m, int64_t sim_us)
{
    /* the common case, still inside the slot, without a 64-bit division */
    if (m->act_slot != INT64_MIN && sim_us >= m->act_slot * SLOT_US &&
        sim_us < (m->act_slot + 1) * SLOT_US)
        return;
    int64_t slot = sim_us >= 0 ? sim_us / SLOT_US : (sim_us - SLOT_US + 1) / SLOT_US;
    m->act_slot = slot;
    const struct market *mk = m->mk;
    int64_t t = slot * SLOT_US + SLOT_US / 2;
    double abroad = 0;
    for (size_t c = 0; c < m->nc; c++) {
        m->act[c] = market_activity(mk, c, t) / mk->act_max;
        abroad += m->target[c] * m->act[c];
    }
    m->intensity = market_intensity(mk, t);
    /* P(employer k, office c) is proportional to k's Zipf weight times c's
     * activity now: over a week every office is as active as any other, so
     * each employer keeps exactly its Zipf share */
    size_t n = mk->nemployers, nm = mk->multinationals;
    double total = 0;
    for (size_t k = 0; k < n; k++) {
        double a = k < nm ? mk->abroad_p : 0;
        m->emp_w[k] = mk->employers[k].w * (1 - a) * m->act[mk->employers[k].home];
        total += m->emp_w[k];
    }
    for (size_t k = 0; k < nm; k++) {
        m->emp_w[n + k] = mk->employers[k].w * mk->abroad_p * abroad;
        total += m->emp_w[n + k];
    }
    if (!(total > 0)) { /* nobody at work anywhere: the shares alone */
        for (size_t k = 0; k < n + nm; k++)
            m->emp_w[k] = k < n ? mk->employers[k].w : 0;
    }
    rng_alias_build(&m->employer_pick, m->emp_w, n + nm);
    double *w = m->emp_w; /* reused: the employer table is built */
    for (size_t c = 0; c < m->nc; c++)
        w[c] = abroad > 0 ? m->target[c] * m->act[c] : m->target[c];
    rng_alias_build(&m->abroad_pick, w, m->nc);
}

double model_intensity(struct model *m, int64_t sim_us)
{
    refresh_activity(m, sim_us);
    /* a market.tsv whose curves are zero at some hour everywhere slows the
     * clock's arrivals there but never stops them (the gap stays finite) */
    return m->intensity > 1e-3 ? m->intensity : 1e-3;
}

static void parse_stack(struct model *m, size_t r, const struct market *mk)
{
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
    /* emerging skills join the stacks of their roles */
    for (size_t e = 0; e < mk->nemerging; e++)
        for (size_t i = 0; i < mk->emerging[e].nroles; i++) {
            if (mk->emerging[e].roles[i] != (int)r)
                continue;
            m->stack[r] =
                gtp_xrealloc(m->stack[r], (m->nstack[r] + 1) * sizeof(struct stack_entry));
            m->stack[r][m->nstack[r]++] =
                (struct stack_entry){mk->emerging[e].skill, mk->emerging[e].weight};
        }
    m->anchored[r] = m->nstack[r] && strstr(roles[r].name, skills[m->stack[r][0].skill].forms[0]);
    double w[64];
    size_t n = m->nstack[r] < 64 ? m->nstack[r] : 64;
    for (size_t i = 0; i < n; i++) {
        m->in_stack[r * NSKILLS + (size_t)m->stack[r][i].skill] = true;
        w[i] = m->stack[r][i].w * mk->weight_max[m->stack[r][i].skill];
    }
    if (n)
        rng_alias_build(&m->stack_pick[r], w, n);
}

struct model *model_new(const struct market *mk, uint64_t seed, int64_t start_us)
{
    struct model *m = gtp_xcalloc(1, sizeof(*m));
    m->mk = mk;
    m->seed = seed;
    m->start_us = start_us;
    m->nc = mk->ncountries;
    m->nsk = NSKILLS;
    size_t wn = NLOCS > NROLES ? NLOCS : NROLES;
    double *w = gtp_xmalloc(wn * sizeof(double));

    for (size_t r = 0; r < NROLES; r++)
        w[r] = roles[r].weight;
    rng_alias_build(&m->role_pick, w, NROLES);
    m->in_stack = gtp_xcalloc(NROLES * NSKILLS, sizeof(bool));
    for (size_t r = 0; r < NROLES; r++)
        parse_stack(m, r, mk);

    m->emp_w = gtp_xmalloc((mk->nemployers + mk->multinationals + m->nc) * sizeof(double));
    m->target = gtp_xmalloc(m->nc * sizeof(double));
    double ttotal = 0;
    for (size_t c = 0; c < m->nc; c++)
        ttotal += m->target[c] = model_country_weight(mk->country[c].code);
    for (size_t c = 0; c < m->nc; c++)
        m->target[c] /= ttotal;

    /* locations by country */
    m->loc_country = gtp_xmalloc(NLOCS * sizeof(int));
    m->city_first = gtp_xcalloc(m->nc + 1, sizeof(size_t));
    m->city_loc = gtp_xmalloc(NLOCS * sizeof(int));
    m->city_pick = gtp_xcalloc(m->nc, sizeof(struct rng_alias));
    m->anywhere = -1;
    for (size_t i = 0; i < NLOCS; i++) {
        m->loc_country[i] = market_country_find(mk, locations[i].country);
        if (m->loc_country[i] < 0)
            m->anywhere = (int)i;
    }
    size_t nl = 0;
    for (size_t c = 0; c < m->nc; c++) {
        m->city_first[c] = nl;
        size_t from = nl;
        for (size_t i = 0; i < NLOCS; i++)
            if (m->loc_country[i] == (int)c) {
                w[nl - from] = locations[i].w;
                m->city_loc[nl++] = (int)i;
            }
        rng_alias_build(&m->city_pick[c], w, nl - from); /* market_load checked nl > from */
    }
    m->city_first[m->nc] = nl;

    /* seniority: two tables, so the country's and the role's junior multipliers
     * need one probability, not a table per country and role */
    double wo[NSEN];
    size_t nj = 0, no = 0;
    for (size_t i = 0; i < NSEN; i++) {
        if (seniority[i].junior) {
            m->sen_junior_idx[nj] = (int)i;
            w[nj++] = seniority[i].w;
            m->sen_junior_w += seniority[i].w;
        } else {
            m->sen_other_idx[no] = (int)i;
            wo[no++] = seniority[i].w;
            m->sen_other_w += seniority[i].w;
        }
    }
    rng_alias_build(&m->sen_junior, w, nj);
    rng_alias_build(&m->sen_other, wo, no);

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
    m->keep = gtp_xmalloc(m->nc * NSKILLS * sizeof(uint32_t));
    m->keep_scratch = gtp_xmalloc(m->nc * NSKILLS * sizeof(double));
    m->keep_hour = INT64_MIN;
    m->act_slot = INT64_MIN;
    free(w);
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
    for (size_t c = 0; c < m->nc; c++)
        rng_alias_fini(&m->city_pick[c]);
    free(m->city_pick);
    rng_alias_fini(&m->sen_junior);
    rng_alias_fini(&m->sen_other);
    free(m->city_first);
    free(m->city_loc);
    free(m->loc_country);
    free(m->in_stack);
    free(m->keep);
    free(m->keep_scratch);
    rng_alias_fini(&m->role_pick);
    rng_alias_fini(&m->employer_pick);
    rng_alias_fini(&m->abroad_pick);
    free(m->emp_w);
    free(m->target);
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

/* The form (surface spelling) is chosen later, for the skills that are kept. */
static void add_skill(struct posting *p, int idx)
{
    if (idx < 0 || p->nskills >= MODEL_MAX_SKILLS || has_skill(p, idx))
        return;
    p->skills[p->nskills++] = idx;
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

/* Keep probabilities for the hour: weight now / largest weight (market.h). */
static void refresh_keep(struct model *m, int64_t sim_us)
{
    if (m->keep_hour != INT64_MIN && sim_us >= m->keep_hour * MARKET_HOUR_US &&
        sim_us < (m->keep_hour + 1) * MARKET_HOUR_US)
        return;
    int64_t hour =
        sim_us >= 0 ? sim_us / MARKET_HOUR_US : (sim_us - MARKET_HOUR_US + 1) / MARKET_HOUR_US;
    m->keep_hour = hour;
    const struct market *mk = m->mk;
    int64_t t = hour * MARKET_HOUR_US;
    double *kp = m->keep_scratch;
    for (size_t s = 0; s < NSKILLS; s++) {
        double tr = market_trend(mk, (int)s, m->start_us, t) / mk->weight_max[s];
        for (size_t c = 0; c < m->nc; c++)
            kp[c * NSKILLS + s] = tr * mk->affinity[c * NSKILLS + s];
    }
    struct market_spike sp[64];
    int64_t day = (t - m->start_us) >= 0 ? (t - m->start_us) / MARKET_DAY_US
                                         : -((m->start_us - t + MARKET_DAY_US - 1) / MARKET_DAY_US);
    for (int64_t d = day - 3; d <= day; d++) {
        size_t n = market_spikes_of_day(mk, m->seed, m->start_us, d, sp, GTP_ARRAY_LEN(sp));
        for (size_t i = 0; i < n; i++)
            if (t >= sp[i].from_us && t < sp[i].to_us) /* overlapping spikes do not stack */
                kp[(size_t)sp[i].country * NSKILLS + (size_t)sp[i].skill] =
                    market_trend(mk, sp[i].skill, m->start_us, t) *
                    mk->affinity[(size_t)sp[i].country * NSKILLS + (size_t)sp[i].skill] *
                    sp[i].factor / mk->weight_max[sp[i].skill];
    }
    for (size_t i = 0; i < m->nc * NSKILLS; i++)
        m->keep[i] = kp[i] >= 1.0 ? UINT32_MAX : (uint32_t)(kp[i] * 4294967296.0);
}

void model_make(struct model *m, struct rng *r, int64_t sim_us, struct posting *p)
{
    const struct market *mk = m->mk;
    refresh_activity(m, sim_us);
    refresh_keep(m, sim_us);

    size_t ri = rng_alias_pick(r, &m->role_pick);
    const struct role *role = &roles[ri];

    /* employer and office, weighted by the office's activity now */
    size_t k = rng_alias_pick(r, &m->employer_pick), c;
    if (k < mk->nemployers) {
        c = (size_t)mk->employers[k].home;
    } else {
        k -= mk->nemployers;
        c = rng_alias_pick(r, &m->abroad_pick);
    }
    const struct market_employer *emp = &mk->employers[k];
    p->employer = (int)k;
    p->company = emp->name;
    p->company_len = emp->name_len;

    double jw = m->sen_junior_w * mk->country[c].junior * mk->role_junior[ri];
    size_t si = rng_double(r) * (jw + m->sen_other_w) < jw
                    ? (size_t)m->sen_junior_idx[rng_alias_pick(r, &m->sen_junior)]
                    : (size_t)m->sen_other_idx[rng_alias_pick(r, &m->sen_other)];
    double remote_f = mk->country[c].remote * mk->role_remote[ri];
    const struct location *loc;
    if (m->anywhere >= 0 && rng_chance(r, 0.04 * remote_f)) {
        loc = &locations[m->anywhere];
    } else {
        /* a remote-only location ("Remote - US") as often as the role works remotely:
         * nurses are never posted there */
        for (int tries = 0;; tries++) {
            loc = &locations[m->city_loc[m->city_first[c] + rng_alias_pick(r, &m->city_pick[c])]];
            if (loc->remote_p < 1.0 || tries == 8 || rng_chance(r, remote_f))
                break;
        }
    }

    /* title */
    gtp_buf_reset(&p->title_buf);
    gtp_buf_puts(&p->title_buf, seniority[si].pre);
    gtp_buf_puts(&p->title_buf, seniority[si].area ? role->area : role->name);
    gtp_buf_puts(&p->title_buf, seniority[si].post);
    p->title_len = p->title_buf.len;
    gtp_buf_putc(&p->title_buf, '\0');
    p->title = p->title_buf.p;

    p->location = loc->text;
    p->country = loc->country;
    p->office = mk->country[c].code;
    p->is_remote = loc->remote_p >= 1.0 || rng_chance(r, loc->remote_p * remote_f);
    uint32_t src = rng_below(r, 100);
    p->source = src < 80 ? "linkedin_sim" : src < 93 ? "indeed_sim" : "glassdoor_sim";

    /* skills: weighted draws without replacement from the role's stack, the
     * employer's stack where it fits the role, companions; then each kept with
     * probability weight now / largest weight, so a skill's mention rate in a
     * country is proportional to market_weight() (the title's skill stays) */
    p->nskills = 0;
    int want = role->min_sk + (int)rng_below(r, (uint32_t)(role->max_sk - role->min_sk + 1));
    size_t ns = m->nstack[ri];
    if (ns && m->anchored[ri])
        add_skill(p, m->stack[ri][0].skill);
    if (ns && want > 0)
        for (int tries = 0; (int)p->nskills < want && tries < want * 4; tries++)
            add_skill(p, m->stack[ri][rng_alias_pick(r, &m->stack_pick[ri])].skill);
    const struct market_stack *st = &mk->stacks[emp->stack];
    for (size_t i = 0; i < st->n; i++)
        if (m->in_stack[ri * NSKILLS + (size_t)st->skills[i]] && rng_chance(r, 0.5))
            add_skill(p, st->skills[i]);
    size_t base = p->nskills;
    for (size_t i = 0; i < base; i++) {
        int sk = p->skills[i];
        for (size_t cc = m->comp_first[sk]; cc < m->comp_first[sk + 1]; cc++)
            if (rng_chance(r, m->comp_p[cc]))
                add_skill(p, m->comp_to[cc]);
    }
    const uint32_t *keep = &m->keep[c * NSKILLS];
    size_t kept = 0;
    uint64_t bits = 0;
    int nbits = 0;
    for (size_t i = 0; i < p->nskills; i++) {
        int sk = p->skills[i];
        uint32_t kp = keep[sk];
        if (!(i == 0 && ns && m->anchored[ri]) && kp != UINT32_MAX) {
            /* 32 uniform bits per decision, two decisions per PRNG call */
            if (nbits == 0) {
                bits = rng_next(r);
                nbits = 2;
            }
            uint32_t u = (uint32_t)bits;
            bits >>= 32;
            nbits--;
            if (u >= kp)
                continue;
        }
        /* The first form is the usual spelling; the others show up a third of the time. */
        size_t nforms = m->nforms[sk];
        size_t f = nforms > 1 && rng_chance(r, 0.33) ? 1 + rng_below(r, (uint32_t)(nforms - 1)) : 0;
        p->skills[kept] = sk;
        p->forms[kept] = skills[sk].forms[f];
        kept++;
    }
    p->nskills = kept;
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
