import Foundation

/// Everything a staff route or action can require. Deny by default: a role has exactly the permissions
/// `StaffPolicy` lists for it, and a route without a permission is not a staff route.
public enum StaffPermission: String, Sendable, CaseIterable {
    /// The staff home page.
    case viewWorkspace
    /// The queue of new reports.
    case viewTriage
    /// Read one report, its thread and evidence (a `record.viewed` entry).
    case viewReport
    /// See a reporter's contact details (decrypted on the page).
    case viewContact
    /// Screen, ask for information, mark duplicate, out of scope or spam.
    case triageReports
    /// Download an original evidence file (an `export.made` entry).
    case downloadEvidence
    /// See identifiers that recur across incidents.
    case viewPatterns
    /// Read incidents.
    case viewIncidents
    /// Edit an incident's place, operation and summary.
    case manageIncidents
    /// Read case files.
    case viewCaseFiles
    /// Open case files, move them, fill in the checklist (closing and reopening are a supervisor's).
    case manageCaseFiles
    /// Attach a subject agent's real identity (with a reason) and see attached identities.
    case attachIdentity
    /// Decide an allegation's final finding and its standard of proof.
    case decideFindings
    /// Search reports, incidents and case files (results limited to what the role may read).
    case search
    /// Staff accounts: create, disable, enable, change roles, reset, approve another administrator's request.
    case manageAccounts
    /// The account-activity page: every account action and sign-in, by pseudonym.
    case viewAccountActivity
    /// Run verification of the custody log from the workspace.
    case verifyLog
}

/// Which role holds which permission.
public enum StaffPolicy {
    public static let table: [StaffRole: Set<StaffPermission>] = [
        .intake: [
            .viewWorkspace, .viewTriage, .viewReport, .viewContact, .triageReports, .viewIncidents, .downloadEvidence,
            .search,
        ],
        .investigator: [
            .viewWorkspace, .viewTriage, .viewReport, .viewContact, .triageReports, .viewIncidents, .manageIncidents,
            .viewCaseFiles, .manageCaseFiles, .downloadEvidence, .viewPatterns, .search,
        ],
        .supervisor: [
            .viewWorkspace, .viewTriage, .viewReport, .viewContact, .triageReports, .viewIncidents, .manageIncidents,
            .viewCaseFiles, .manageCaseFiles, .downloadEvidence, .viewPatterns, .verifyLog, .attachIdentity,
            .decideFindings, .search,
        ],
        .prosecutor: [.viewWorkspace],
        .auditor: [
            .viewWorkspace, .viewTriage, .viewReport, .viewIncidents, .viewCaseFiles, .downloadEvidence, .viewPatterns,
            .verifyLog, .search, .viewAccountActivity,
        ],
        .administrator: [.viewWorkspace, .manageAccounts, .viewAccountActivity, .verifyLog],
    ]

    public static func allows(_ role: StaffRole, _ permission: StaffPermission) -> Bool {
        table[role]?.contains(permission) ?? false
    }
}
