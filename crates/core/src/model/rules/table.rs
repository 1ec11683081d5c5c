//! The one table of rules: every diagnostic portalctl reports has a row here, with its
//! stable kebab-case name (what `error[NAME]` shows and `portalctl rules NAME` explains),
//! a one-line summary and an example config that breaks it. [`RuleId`], its names and
//! [`RULES`] all follow from the table, so a rule is added by adding its row.
//!
//! An example is a whole config: the text of `portalctl.yaml`, then of any further file
//! after a line `# file: NAME` (a CSV roster, say). Loading it reports that rule and no
//! other (a unit test holds every row to it).

/// Where a rule is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// By the loader, before any rule: a file that cannot be read, parsed or matched to
    /// the schema, a duplicate, a CSV roster's shape.
    Load,
    /// A rule of one resource alone: the OpenAPI document states it (`422`).
    Alone,
    /// A rule that judges a resource by others (a reference, a cycle, a seat limit): a
    /// request refused only by such rules conflicts with the current state (`409`).
    Others,
}

/// One row of the table.
#[derive(Debug)]
pub struct Rule {
    pub id: RuleId,
    /// Stable kebab-case name, e.g. `seat-limit`.
    pub name: &'static str,
    pub origin: Origin,
    /// One line: what the rule asks of a config.
    pub summary: &'static str,
    /// A config that breaks the rule (see the module's documentation for its form).
    pub example: &'static str,
}

impl Rule {
    /// The rule with this name.
    pub fn named(name: &str) -> Option<&'static Rule> {
        RULES.iter().find(|rule| rule.name == name)
    }

    /// The example's files in order: `(file name, text)`.
    pub fn example_files(&self) -> Vec<(&'static str, String)> {
        let mut files = vec![("portalctl.yaml", String::new())];
        for line in self.example.lines() {
            if let Some(name) = line.strip_prefix("# file: ") {
                files.push((name.trim(), String::new()));
            } else if let Some((_, text)) = files.last_mut() {
                text.push_str(line);
                text.push('\n');
            }
        }
        files
    }
}

macro_rules! rule_table {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $name:literal, $origin:ident,
            $summary:literal,
            $example:literal;
    )*) => {
        /// Which rule a [`Violation`](super::Violation) or a diagnostic breaks: problems
        /// are compared by rule and place, never by their message text, which may quote
        /// live data.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RuleId {
            $( $(#[$doc])* $variant, )*
        }

        /// Every rule, in the order of [`RuleId`].
        pub static RULES: &[Rule] = &[
            $( Rule {
                id: RuleId::$variant,
                name: $name,
                origin: Origin::$origin,
                summary: $summary,
                example: $example,
            }, )*
        ];
    };
}

impl RuleId {
    /// The rule's row in [`RULES`].
    pub fn rule(self) -> &'static Rule {
        &RULES[self as usize]
    }

    /// The rule's stable kebab-case name.
    pub fn name(self) -> &'static str {
        self.rule().name
    }

    /// Whether the rule judges a resource by other resources (a reference to one, a role
    /// cycle, a seat limit, overlapping domains, attributes declared elsewhere, one
    /// partner's entries across portals): no schema of a request can express it, and a
    /// request refused only by such rules conflicts with the current state (the service
    /// answers `409 conflicts_with_state`). The other rules hold of one resource alone,
    /// and the OpenAPI document states them (`422 invalid_changes`).
    pub fn depends_on_other_resources(self) -> bool {
        self.rule().origin == Origin::Others
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

rule_table! {
    // --- Loading: files, syntax, schema, shape -------------------------------------------
    UnreadableFile = "unreadable-file", Load,
        "every file of the config, and every CSV roster it names, can be read",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - from_csv: missing.csv
        role: viewer
";
    YamlSyntax = "yaml-syntax", Load,
        "every file is well-formed YAML, with no key twice in one mapping",
        "workspace: {name: Acme, owner_domains: [acme.io]
";
    Schema = "schema", Load,
        "every file matches the config's JSON Schema (`portalctl schema`)",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex:
    domains: [globex.com]
    kind: reseller
";
    DefinedTwice = "defined-twice", Load,
        "each resource is defined once across all files",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex: {domains: [globex.com]}
# file: more.yaml
partner_orgs:
  globex: {domains: [globex.com]}
";
    NoWorkspace = "no-workspace", Load,
        "exactly one file declares the `workspace`",
        "partner_orgs:
  globex: {domains: [globex.com]}
";
    UnknownTemplate = "unknown-template", Load,
        "a portal's `template` names a declared portal template",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portal_templates:
  standard: {logout_url: https://acme.io/bye, color: \"#0F62FE\"}
portals:
  globex: {name: Globex, template: standrd, color: \"#0F62FE\", logout_url: https://acme.io/bye}
";
    PortalFieldMissing = "portal-field-missing", Load,
        "a portal sets `color` and `logout_url`, itself or through its template",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex: {name: Globex, color: \"#0F62FE\"}
";
    RosterEntry = "roster-entry", Load,
        "a roster entry is one partner (`email` and `role`) or one CSV roster (`from_csv`)",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - email: alice@globex.com
";
    InvalidDate = "invalid-date", Load,
        "dates are written `YYYY-MM-DD` and exist",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer, expires: 2027-02-30}
";
    SharePrincipal = "share-principal", Load,
        "a share names exactly one of `group`, `portal`, `org` or `user`",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex: {name: Globex, color: \"#0F62FE\", logout_url: https://acme.io/bye}
folders:
  /Partners:
    shares:
      - {portal: globex, org: globex, access: view}
";
    CsvShape = "csv-shape", Load,
        "a CSV roster has an `email` column, known columns once each, and full rows",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {from_csv: partners.csv, role: viewer}
# file: partners.csv
email,rol
alice@globex.com,viewer
";
    RedactionPlaceholder = "redaction-placeholder", Load,
        "no value is the placeholder `import --redact-sensitive` writes for a sensitive value",
        "workspace: {name: Acme, owner_domains: [acme.io]}
attributes:
  contract_ref: {type: string, sensitive: true}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - email: alice@globex.com
        role: viewer
        attributes: {contract_ref: FILL-IN-SENSITIVE-VALUE}
";

    // --- The workspace ------------------------------------------------------------------
    WorkspaceName = "workspace-name", Alone,
        "the workspace has a name",
        "workspace: {name: \" \", owner_domains: [acme.io]}
";
    OwnerDomainInvalid = "owner-domain-invalid", Alone,
        "each owner domain is a lowercase domain name",
        "workspace: {name: Acme, owner_domains: [acme..io]}
";
    ConsoleStaffOutsideOwnerDomains = "console-staff-outside-owner-domains", Alone,
        "the console's staff are emails in the workspace's owner domains",
        "workspace:
  name: Acme
  owner_domains: [acme.io]
  console: {viewers: [ana@globex.com]}
";
    ConsoleGroupUnknown = "console-group-unknown", Alone,
        "a console role names only groups declared under `console.groups`",
        "workspace:
  name: Acme
  owner_domains: [acme.io]
  console:
    groups: {support: [sam@acme.io]}
    approvers: [group:suport]
";

    // --- Attributes ---------------------------------------------------------------------
    EnumWithoutValues = "enum-without-values", Alone,
        "an enum attribute lists its `values`",
        "workspace: {name: Acme, owner_domains: [acme.io]}
attributes:
  region: {type: enum}
";
    ValuesOnNonEnum = "values-on-non-enum", Alone,
        "only an enum attribute lists `values`",
        "workspace: {name: Acme, owner_domains: [acme.io]}
attributes:
  region: {type: string, values: [emea, amer]}
";
    EnumValueRepeated = "enum-value-repeated", Alone,
        "an enum attribute lists each value once",
        "workspace: {name: Acme, owner_domains: [acme.io]}
attributes:
  region: {type: enum, values: [emea, amer, emea]}
";

    // --- Roles --------------------------------------------------------------------------
    BuiltinRoleRedefined = "builtin-role-redefined", Alone,
        "a custom role does not reuse a built-in role's name",
        "workspace: {name: Acme, owner_domains: [acme.io]}
roles:
  viewer: {permissions: [data.export]}
";
    RoleExtendsUnknown = "role-extends-unknown", Others,
        "a role `extends` a known role",
        "workspace: {name: Acme, owner_domains: [acme.io]}
roles:
  analyst: {extends: veiwer, permissions: [data.export]}
";
    UnknownPermission = "unknown-permission", Alone,
        "a role grants only built-in permissions",
        "workspace: {name: Acme, owner_domains: [acme.io]}
roles:
  analyst: {extends: viewer, permissions: [data.exprot]}
";
    PermissionUnreachable = "permission-unreachable", Others,
        "every permission of a role can apply somewhere: one that needs `edit` (see `workspace.permissions`) is in a role that can use `edit` shares (it has `reports.edit`)",
        "workspace: {name: Acme, owner_domains: [acme.io]}
roles:
  account-manager: {extends: viewer, permissions: [files.transfer]}
";
    PermissionLevelFixed = "permission-level-fixed", Alone,
        "`workspace.permissions` declares only known permissions, and leaves `reports.view` (`view`) and `reports.edit` (`edit`) as they are",
        "workspace:
  name: Acme
  owner_domains: [acme.io]
  permissions:
    reports.edit: {requires: view}
";
    RoleCycle = "role-cycle", Others,
        "roles do not extend each other in a cycle",
        "workspace: {name: Acme, owner_domains: [acme.io]}
roles:
  analyst: {extends: auditor}
  auditor: {extends: analyst}
";

    // --- Partner orgs -------------------------------------------------------------------
    OrgWithoutDomains = "org-without-domains", Alone,
        "a partner org lists at least one domain",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex: {domains: []}
";
    OrgDomainInvalid = "org-domain-invalid", Alone,
        "each domain of a partner org is a lowercase domain name",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex: {domains: [globex..com]}
";
    OrgDomainInOwnerDomain = "org-domain-in-owner-domain", Others,
        "a partner org claims no domain within an owner domain",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex: {domains: [partners.acme.io]}
";
    OrgAttributeUndeclared = "org-attribute-undeclared", Others,
        "a partner org sets only declared attributes",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex: {domains: [globex.com], attributes: {tenant: t-042}}
";
    SelfManagementAdminNotMember = "delegated-admin-not-member", Others,
        "each partner admin of a self-managed org is a member of that org in some portal",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex:
    domains: [globex.com]
    self_management: {admins: [alice@globex.com], max_role: viewer}
";
    SelfManagementUnknownRole = "delegated-unknown-role", Others,
        "the `max_role` and `default_role` of a self-managed org are declared roles",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex:
    domains: [globex.com]
    self_management: {max_role: manager}
";
    SelfManagementDefaultAboveMax = "delegated-default-role-above-max", Others,
        "the `default_role` of a self-managed org grants no permission its `max_role` lacks",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex:
    domains: [globex.com]
    self_management: {max_role: viewer, default_role: editor}
";
    SelfManagementUnknownPortal = "delegated-unknown-portal", Others,
        "the portals a self-managed org may add people to exist",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex:
    domains: [globex.com]
    self_management: {portals: [globex], max_role: viewer}
";
    SelfManagementScimWithoutPortals = "delegated-scim-without-portals", Alone,
        "an org whose identity provider provisions people (`scim: true`) delegates at least one portal",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex:
    domains: [globex.com]
    self_management: {max_role: viewer, scim: true}
";

    // --- Portals ------------------------------------------------------------------------
    PortalNameNotDnsLabel = "portal-name-not-dns-label", Alone,
        "a portal's technical name is a DNS label",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  Globex_Portal: {name: Globex, color: \"#0F62FE\", logout_url: https://acme.io/bye}
";
    PortalDisplayName = "portal-display-name", Alone,
        "a portal has a display `name`",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex: {name: \" \", color: \"#0F62FE\", logout_url: https://acme.io/bye}
";
    PortalColor = "portal-color", Alone,
        "a portal's `color` is `#RRGGBB`",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex: {name: Globex, color: blue, logout_url: https://acme.io/bye}
";
    PortalLogoutUrl = "portal-logout-url", Alone,
        "a portal's `logout_url` is an absolute https:// URL",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex: {name: Globex, color: \"#0F62FE\", logout_url: http://acme.io/bye}
";
    PortalHomeCover = "portal-home-cover", Alone,
        "a portal's `home_cover` is an absolute https:// URL",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    home_cover: /img/cover.png
";
    PortalSessionTtl = "portal-session-ttl", Alone,
        "a portal's `session_ttl` is a duration from 5m to 24h",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    session_ttl: 48h
";
    PortalText = "portal-text", Alone,
        "a portal's initiation and first-login texts have at most 2,000 characters",
        "# Only the service can break this rule: the config's schema already limits the texts.
# With this config live, the service refuses a change that sets the portal's
# `texts.initiation` to 2,001 characters.
workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex: {name: Globex, color: \"#0F62FE\", logout_url: https://acme.io/bye}
";
    PortalHelpUrl = "portal-help-url", Alone,
        "a portal's `texts.help_url` is an absolute https:// URL",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    texts: {help_url: acme.io/help}
";
    RegistrationUnknownRole = "registration-unknown-role", Others,
        "self-registration gives a known role",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    self_registration: {enabled: true, allowed_domains: [globex.com], default_role: veiwer}
";
    RegistrationOwnerDomain = "registration-owner-domain", Others,
        "self-registration allows no domain within an owner domain",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    self_registration: {enabled: true, allowed_domains: [acme.io], default_role: viewer}
";
    RegistrationNoDomains = "registration-no-domains", Alone,
        "enabled self-registration allows at least one domain",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    self_registration: {enabled: true, allowed_domains: [], default_role: viewer}
";
    RegistrationUnknownGroup = "registration-unknown-group", Others,
        "self-registration joins only declared groups",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    self_registration:
      enabled: true
      allowed_domains: [globex.com]
      default_role: viewer
      groups: [finance]
";

    // --- Seat limits --------------------------------------------------------------------
    PortalSeatLimit = "seat-limit", Others,
        "a portal has at most `max_members` members",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    max_members: 1
    members:
      - {email: alice@globex.com, role: viewer}
      - {email: bob@globex.com, role: viewer}
";
    OrgSeatLimit = "org-seat-limit", Others,
        "a partner org has at most `max_members` partners across its portals",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex: {domains: [globex.com], max_members: 1}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer, org: globex}
      - {email: bob@globex.com, role: viewer, org: globex}
";

    // --- Memberships --------------------------------------------------------------------
    MemberUnknownPortal = "member-unknown-portal", Others,
        "a membership names a declared portal",
        "# Only the service can break this rule: a config's members sit inside their portal.
# With this config live, the service refuses a change that deletes portal `globex`
# while `alice@globex.com` is its member.
workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer}
";
    MemberInvalidEmail = "member-invalid-email", Alone,
        "a member's email is a valid address",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@@globex.com, role: viewer}
";
    MemberInOwnerDomain = "member-in-owner-domain", Others,
        "no member's email is within an owner domain: staff are not partners",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: carol@acme.io, role: viewer}
";
    MemberUnknownRole = "unknown-role", Others,
        "a member's role is a built-in or declared role",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viwer}
";
    MemberUnknownOrg = "member-unknown-org", Others,
        "a member's `org` names a declared partner org",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex: {domains: [globex.com]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer, org: globx}
";
    MemberOutsideOrgDomains = "member-email-outside-org-domains", Others,
        "a member's email is within a domain of the member's partner org",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex: {domains: [globex.com]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@initech.com, role: viewer, org: globex}
";
    MemberAttributeUndeclared = "member-attribute-undeclared", Others,
        "a member sets only declared attributes",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer, attributes: {region: emea}}
";
    MemberAttributeInvalid = "attribute-value-invalid", Others,
        "an attribute's value fits its declared type (and enum values)",
        "workspace: {name: Acme, owner_domains: [acme.io]}
attributes:
  region: {type: enum, values: [emea, amer, apac]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer, attributes: {region: europe}}
";
    MemberAttributeMissing = "member-attribute-missing", Others,
        "a member has every required attribute, itself or through its partner org",
        "workspace: {name: Acme, owner_domains: [acme.io]}
attributes:
  tenant_id: {type: string, required: true}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer}
";
    MemberAttributeContradictsOrg = "member-attribute-contradicts-org", Others,
        "a member does not contradict an attribute value its partner org supplies",
        "workspace: {name: Acme, owner_domains: [acme.io]}
attributes:
  tenant_id: {type: string}
partner_orgs:
  globex: {domains: [globex.com], attributes: {tenant_id: t-042}}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer, org: globex, attributes: {tenant_id: t-043}}
";
    MembershipExpired = "membership-expired", Alone,
        "a membership's `expires` date is not past (a warning: `plan` removes it)",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer, expires: 2020-01-31}
";
    PartnerOrgDiffers = "partner-org-differs", Others,
        "one email is one partner: the same `org` in every portal",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  globex: {domains: [globex.com]}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer, org: globex}
  news:
    name: News
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer}
";
    PartnerAttributesDiffer = "partner-attributes-differ", Others,
        "one email is one partner: the same attributes in every portal",
        "workspace: {name: Acme, owner_domains: [acme.io]}
attributes:
  region: {type: string}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer, attributes: {region: emea}}
  news:
    name: News
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer, attributes: {region: amer}}
";

    // --- Groups -------------------------------------------------------------------------
    GroupMemberNotPartner = "group-member-not-partner", Others,
        "a group lists only members of some portal, or people at a domain of an org that manages its people (`self_management`)",
        "workspace: {name: Acme, owner_domains: [acme.io]}
groups:
  finance: {members: [alice@globex.com]}
";

    // --- Folders and dashboards ---------------------------------------------------------
    FolderPathInvalid = "folder-path-invalid", Alone,
        "a folder path is absolute, like `/Partners/Finance`",
        "workspace: {name: Acme, owner_domains: [acme.io]}
folders:
  /Partners//Finance: {}
";
    /// A dashboard path that is not a well-formed path.
    DashboardPathInvalid = "dashboard-path-invalid", Alone,
        "a dashboard path is absolute, like `/Partners/Finance/Q3 Revenue`",
        "workspace: {name: Acme, owner_domains: [acme.io]}
folders:
  /Partners: {}
dashboards:
  /Partners//Q3: {}
";
    /// A dashboard whose folder (its path without the last segment) is not declared.
    DashboardUnknownFolder = "dashboard-unknown-folder", Others,
        "a dashboard lies inside a declared folder",
        "workspace: {name: Acme, owner_domains: [acme.io]}
folders:
  /Partners: {}
dashboards:
  /Partner/Q3 Revenue: {}
";
    /// A path declared both as a folder and as a dashboard.
    DashboardIsFolder = "dashboard-is-folder", Others,
        "no path is both a folder and a dashboard",
        "workspace: {name: Acme, owner_domains: [acme.io]}
folders:
  /Partners: {}
  /Partners/Q3: {}
dashboards:
  /Partners/Q3: {}
";
    /// A folder or dashboard below a dashboard: dashboards hold nothing.
    InsideDashboard = "inside-dashboard", Others,
        "nothing lies inside a dashboard",
        "workspace: {name: Acme, owner_domains: [acme.io]}
folders:
  /Partners: {}
  /Partners/Q3/Detail: {}
dashboards:
  /Partners/Q3: {}
";

    // --- Shares -------------------------------------------------------------------------
    ShareUnknownFolder = "share-unknown-folder", Others,
        "a share is on a declared folder or dashboard",
        "# Only the service can break this rule: a config's shares sit inside their folder.
# With this config live, the service refuses a change that deletes folder `/Partners`
# while it is shared.
workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex: {name: Globex, color: \"#0F62FE\", logout_url: https://acme.io/bye}
folders:
  /Partners:
    shares:
      - {portal: globex, access: view}
";
    ShareUnknownGroup = "share-unknown-group", Others,
        "a share to `group:` names a declared group",
        "workspace: {name: Acme, owner_domains: [acme.io]}
folders:
  /Partners:
    shares:
      - {group: finance, access: view}
";
    ShareUnknownPortal = "share-unknown-portal", Others,
        "a share to `portal:` names a declared portal",
        "workspace: {name: Acme, owner_domains: [acme.io]}
folders:
  /Partners:
    shares:
      - {portal: globex, access: view}
";
    ShareUnknownOrg = "share-unknown-org", Others,
        "a share to `org:` names a declared partner org",
        "workspace: {name: Acme, owner_domains: [acme.io]}
folders:
  /Partners:
    shares:
      - {org: globex, access: view}
";
    ShareUnknownUser = "share-unknown-user", Others,
        "a share to `user:` names a member of some portal",
        "workspace: {name: Acme, owner_domains: [acme.io]}
folders:
  /Partners:
    shares:
      - {user: alice@globex.com, access: view}
";
    ShareExpired = "share-expired", Alone,
        "a share's `expires` date is not past (a warning: `plan` removes it)",
        "workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex: {name: Globex, color: \"#0F62FE\", logout_url: https://acme.io/bye}
folders:
  /Partners:
    shares:
      - {portal: globex, access: view, expires: 2020-01-31}
";
    // --- Access assurance: assertions, owners, reviews (`crate::assurance`) -------------
    AssertionInvalid = "assertion-invalid", Load,
        "an assertion names a declared folder or dashboard, declared principals and a level or permission, and states exactly one of `only`, `never` or `can`",
        "workspace: {name: Acme, owner_domains: [acme.io]}
folders:
  /Partners/Contoso: {}
assertions:
  - name: only Contoso sees its room
    folder: /Partners/Contso
    only: [group:finance]
";
    AssertionBroken = "assertion-broken", Load,
        "the access the config grants keeps every assertion (`validate`, `plan`, `apply`, `diff`; `drift` checks live)",
        "workspace: {name: Acme, owner_domains: [acme.io]}
partner_orgs:
  contoso: {domains: [contoso.com]}
  globex: {domains: [globex.com]}
portals:
  partners:
    name: Partners
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: alice@globex.com, role: viewer, org: globex}
groups:
  finance: {members: [alice@globex.com]}
folders:
  /Partners/Contoso:
    shares:
      - {group: finance, access: view}
assertions:
  - name: only Contoso sees its room
    folder: /Partners/Contoso
    only: [org:contoso]
";
    OwnerInvalid = "owner-invalid", Load,
        "`owners` are emails or handles (`@acme/partner-ops`), each listed once",
        "workspace: {name: Acme, owner_domains: [acme.io]}
folders:
  /Partners/Finance:
    owners: [fred@acme.io, fred@acme.io]
";
    ReviewFile = "review-file", Load,
        "a review file under `reviews/` lists grants that exist, each under an owner of its folder with `decision: keep`, `revoke` or `pending`, decided by that owner (a warning names the decisions git cannot attribute: on team-owned or unowned grants)",
        "workspace: {name: Acme, owner_domains: [acme.io]}
folders:
  /Partners/Finance: {owners: [fred@acme.io]}
# file: reviews/q4.yaml
review: {name: q4}
owners:
  fred@acme.io:
    - partner: alice@globex.com
      via: group:finance
      shared_on: /Partners/Finance
      level: view
      decision: revoke
";
    CodeownersStale = "codeowners-stale", Load,
        "the CODEOWNERS file given to `validate --codeowners` holds the block `portalctl codeowners` writes",
        "# With `validate --codeowners CODEOWNERS`, and a CODEOWNERS file without the block.
workspace: {name: Acme, owner_domains: [acme.io]}
folders:
  /Partners/Finance: {owners: [fred@acme.io]}
";
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::config::MemorySource;
    use crate::model::CalendarDate;

    #[test]
    fn names_are_unique_kebab_case_and_follow_the_enum() {
        let mut seen = BTreeSet::new();
        for (index, rule) in RULES.iter().enumerate() {
            assert_eq!(rule.id as usize, index, "{} is out of order", rule.name);
            assert_eq!(rule.id.name(), rule.name);
            assert!(seen.insert(rule.name), "`{}` is named twice", rule.name);
            let kebab = !rule.name.is_empty()
                && rule.name.split('-').all(|word| {
                    !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                });
            assert!(kebab, "`{}` is not kebab-case", rule.name);
            assert!(
                !rule.summary.contains('\n') && !rule.summary.ends_with('.'),
                "{}",
                rule.name
            );
            assert_eq!(Rule::named(rule.name).map(|found| found.id), Some(rule.id));
        }
    }

    #[test]
    fn every_example_breaks_its_rule_and_no_other() {
        let today = CalendarDate::from_ymd(2026, 11, 30).expect("a valid date");
        let mut wrong = Vec::new();
        for rule in RULES {
            let mut names = example_rules(rule, today);
            // Loader diagnostics about a missing value come with the rule that then judges
            // the value left empty: both are reported today.
            let consequence: &[&str] = match rule.id {
                RuleId::NoWorkspace => &["workspace-name"],
                RuleId::PortalFieldMissing => &["portal-logout-url"],
                _ => &[],
            };
            for name in consequence {
                names.remove(name);
            }
            if names != BTreeSet::from([rule.name]) {
                wrong.push(format!("{}: {names:?}", rule.name));
            }
        }
        assert!(
            wrong.is_empty(),
            "examples that break other rules:\n{}",
            wrong.join("\n")
        );
    }

    /// The names of the diagnostics the example's config gets, and of the violations
    /// the change its comment describes gets from the service's rules.
    fn example_rules(rule: &Rule, today: CalendarDate) -> BTreeSet<&'static str> {
        let mut source = MemorySource::default();
        for (name, text) in rule.example_files() {
            source = source.with(name, &text);
        }
        let mut loaded = crate::config::load(&source, today).expect("memory sources list their files");
        crate::config::refuse_redaction_placeholders(&mut loaded);
        crate::assurance::check_assertions(&mut loaded, today);
        crate::assurance::review::check_source(&source, &mut loaded, today);
        if rule.id == RuleId::CodeownersStale {
            let files = loaded.assurance.owners.by_file(&loaded.state, &loaded.source_map);
            let block = crate::assurance::codeowners::block(&files);
            loaded
                .diagnostics
                .extend(crate::assurance::codeowners::stale("CODEOWNERS", "", &block, "."));
        }
        let names: BTreeSet<&str> = loaded
            .diagnostics
            .iter()
            .map(|diagnostic| diagnostic.rule.name())
            .collect();
        if !rule.example.starts_with("# Only the service") {
            return names;
        }
        assert!(
            names.is_empty(),
            "{}: the live config is valid: {names:?}",
            rule.name
        );
        let mut state = loaded.state;
        match rule.id {
            RuleId::MemberUnknownPortal => assert!(state.portals.remove("globex").is_some()),
            RuleId::ShareUnknownFolder => assert!(state.folders.remove("/Partners").is_some()),
            RuleId::PortalText => {
                let portal = state.portals.get_mut("globex").expect("the example declares it");
                portal.texts.initiation = Some("x".repeat(crate::model::PortalTexts::MAX_CHARS + 1));
            }
            _ => panic!(
                "{}: describe the change the service refuses in this test",
                rule.name
            ),
        };
        super::super::check(&state, today)
            .iter()
            .map(|violation| violation.rule.name())
            .collect()
    }
}
