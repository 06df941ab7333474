import Glibc

/// `user:` and `group:` (issue 13): once the listeners are bound (ports below 1024 included), the process
/// switches to the group and the user, with no supplementary groups. If it was asked to and cannot, it
/// stops rather than go on with the privileges it had.
enum PrivilegeDrop {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The ids `user` and `group` name (a name or a number); the user's own group when `group` is `nil`.
    static func resolve(user: String?, group: String?) throws -> (uid: uid_t?, gid: gid_t?) {
        var uid: uid_t?
        var gid: gid_t?
        if let user {
            if let number = UInt32(user) {
                uid = number
                gid = getpwuid(number).map { $0.pointee.pw_gid }
            } else if let entry = getpwnam(user) {
                uid = entry.pointee.pw_uid
                gid = entry.pointee.pw_gid
            } else {
                throw Failure(description: "user '\(user)': no such user")
            }
        }
        if let group {
            if let number = UInt32(group) {
                gid = number
            } else if let entry = getgrnam(group) {
                gid = entry.pointee.gr_gid
            } else {
                throw Failure(description: "group '\(group)': no such group")
            }
        }
        return (uid, gid)
    }

    /// Checks what `perform` will do before anything is bound: the names resolve, a numeric user without an
    /// entry in the user database has a `group`, and a group is not given alone to a process that would
    /// stay root.
    static func check(user: String?, group: String?) throws -> (uid: uid_t?, gid: gid_t?) {
        let (uid, gid) = try Self.resolve(user: user, group: group)
        if uid != nil, gid == nil {
            throw Failure(description: "user '\(user ?? "")' has no entry in the user database: give group: too")
        }
        if uid == nil, gid != nil, getuid() == 0 {
            throw Failure(description: "group: without user: would leave the process root; give user: too")
        }
        return (uid, gid)
    }

    /// Switches to the group, then the user, that `check` resolved; checks that the switch holds and cannot
    /// be undone.
    static func perform(uid: uid_t?, gid: gid_t?) throws {
        guard uid != nil || gid != nil else { return }
        if getuid() == 0 || geteuid() == 0 {
            // Root's supplementary groups go whatever else changes.
            guard setgroups(0, nil) == 0 else {
                throw Failure(description: "cannot clear the supplementary groups: errno \(errno)")
            }
        }
        if let gid {
            guard setgid(gid) == 0, getgid() == gid, getegid() == gid else {
                throw Failure(description: "cannot switch to group \(gid): errno \(errno)")
            }
        }
        if let uid {
            guard setuid(uid) == 0, getuid() == uid, geteuid() == uid else {
                throw Failure(description: "cannot switch to user \(uid): errno \(errno)")
            }
            if uid != 0, setuid(0) == 0 {
                throw Failure(description: "switched to user \(uid) but could switch back to root")
            }
        }
    }
}
