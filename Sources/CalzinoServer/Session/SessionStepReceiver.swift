/// Who hears that a step finished: the session handler. A class-bound protocol rather than a closure, so
/// that starting a step captures one reference instead of allocating a closure context per session.
protocol SessionStepReceiver: AnyObject {
    func stepFinished(_ result: SessionStepResult)
}
