import Foundation

/// When the demo does what: the step grid of simulated time, the traffic curve, the slow consumer's
/// capacity and the stalling group's episodes. Pure: the same configuration and times give the same answers.
struct DemoSchedule: Sendable {
    let config: DemoConfig
    let tuning: DemoTuning

    /// Where to resume after `last` to reach `now` with bounded work: at most `maxCatchUpMillis` of simulated
    /// time is caught up, older time is skipped (returned so it can be counted).
    func catchUp(last: Int64, now: Int64) -> (resumeAt: Int64, skippedMillis: Int64) {
        guard now - last > tuning.maxCatchUpMillis else { return (last, 0) }
        return (now - tuning.maxCatchUpMillis, now - last - tuning.maxCatchUpMillis)
    }

    /// The end of the step that starts at `from`, not past `now`.
    func stepEnd(from: Int64, now: Int64) -> Int64 {
        min(now, from + tuning.stepMillis)
    }

    /// Orders per second at simulated second `t`: a wave times random bursts and lulls.
    func orderRate(atSeconds t: Double) -> Double {
        let wave = 1 + tuning.waveAmplitude * sin(2 * Double.pi * t / tuning.wavePeriodSeconds)
        let slot = UInt64(max(0, (t / tuning.burstSlotSeconds).rounded(.down)))
        let u = Mix.unit(Mix.hash(config.seed, slot, "burst"))
        var factor = 1.0
        if u < tuning.burstProbability {
            factor = 2 + u / tuning.burstProbability
        } else if u > 1 - tuning.lullProbability {
            factor = 0.3
        }
        return max(0, config.rate * wave * factor)
    }

    /// The slow consumer's capacity factor at simulated second `t` (see `DemoTuning`).
    func slowCapacityFactor(atSeconds t: Double) -> Double {
        guard tuning.slowPhasePeriodSeconds > 0, t >= tuning.slowPhaseStartSeconds else { return tuning.slowCapacityFactor }
        let phase = (t - tuning.slowPhaseStartSeconds).truncatingRemainder(dividingBy: tuning.slowPhasePeriodSeconds)
        return phase < tuning.slowPhaseDurationSeconds ? tuning.slowPhaseFactor : tuning.slowCapacityFactor
    }

    /// Records per second `group` can process at simulated second `t`: the shipping service follows
    /// its carrier's slow phases, every other service is fast.
    func capacity(of group: String, atSeconds t: Double) -> Double {
        group == DemoGroups.shippingService ? slowCapacityFactor(atSeconds: t) * config.rate : tuning.fastCapacityPerSecond
    }

    /// The records `group` may process in a step of `dt` seconds, given what it left unused before:
    /// a token bucket holding at most two steps' worth (and at least one record).
    func budget(carried: Double, group: String, atSeconds t: Double, dt: Double) -> Double {
        let capacity = capacity(of: group, atSeconds: t)
        return min(carried + capacity * dt, max(2 * capacity * dt, 1))
    }

    /// True while member `index` of `memberCount` in `group` hangs at simulated second `t` (see `stallEpisode`).
    func isStalled(group: String, memberIndex index: Int, memberCount: Int, atSeconds t: Double) -> Bool {
        switch stallEpisode(group: group, memberCount: memberCount, atSeconds: t)?.scope {
        case nil: return false
        case .wholeGroup: return true
        case .oneMember(let member): return member == index
        }
    }

    /// The inventory service's episode under way at simulated second `t`, if any: it stalls in episodes,
    /// either as a whole or one member, chosen per episode from the seed.
    func stallEpisode(group: String, memberCount: Int, atSeconds t: Double) -> StallEpisode? {
        guard group == DemoGroups.inventoryService, tuning.stallPeriodSeconds > 0,
              t >= tuning.stallFirstAtSeconds else { return nil }
        let since = t - tuning.stallFirstAtSeconds
        let episode = (since / tuning.stallPeriodSeconds).rounded(.down)
        guard since - episode * tuning.stallPeriodSeconds < tuning.stallDurationSeconds else { return nil }
        let h = Mix.hash(config.seed, UInt64(episode), "stall")
        if Mix.unit(h) < 0.5 { return StallEpisode(number: Int(episode), scope: .wholeGroup) }
        return StallEpisode(number: Int(episode), scope: .oneMember(Int((h >> 32) % UInt64(max(memberCount, 1)))))
    }
}

/// One stalling episode of a service (see `DemoSchedule.stallEpisode`).
struct StallEpisode: Sendable, Hashable {
    /// Who stalls.
    enum Scope: Sendable, Hashable {
        /// Every member hangs.
        case wholeGroup
        /// The member with this index hangs.
        case oneMember(Int)
    }

    /// Which episode (0 = the first).
    var number: Int
    var scope: Scope
}
