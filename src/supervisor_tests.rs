//! Unit tests of `supervisor`.

use super::*;

#[tokio::test(start_paused = true)]
async fn the_first_task_to_end_is_named_whatever_its_position() {
    let mut sup = Supervisor::new();
    sup.spawn(Task::Http, std::future::pending::<()>());
    sup.spawn(Task::Acker, async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if true {
            panic!("boom");
        }
    });
    sup.spawn(Task::DepthPoller, async {
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let exit = sup.first_exit().await;
    assert_eq!(exit.task, Task::Acker);
    assert_eq!(exit.ended, Ended::Panicked("boom".into()));
    let exit = sup.first_exit().await;
    assert_eq!(exit.task, Task::DepthPoller);
    assert_eq!(exit.ended, Ended::Returned);
}

#[tokio::test(start_paused = true)]
async fn errors_and_faults_are_exits_too() {
    let mut sup = Supervisor::new();
    sup.spawn(Task::ReceiveLoop(3), async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Err::<(), _>("denied")
    });
    let faults = sup.faults();
    let exit = sup.first_exit().await;
    assert_eq!(exit.task, Task::ReceiveLoop(3));
    assert_eq!(exit.ended, Ended::Failed("denied".into()));
    assert_eq!(exit.to_string(), "task receive_loop 3 failed: denied");
    faults.report(Task::Message, Ended::Panicked("oops".into()));
    assert_eq!(sup.first_exit().await.task, Task::Message);
}

#[tokio::test(start_paused = true)]
async fn finish_reports_the_tasks_that_overrun_and_not_those_that_stop() {
    let mut sup = Supervisor::new();
    sup.spawn(Task::Batcher, async {
        tokio::time::sleep(Duration::from_secs(1)).await;
    });
    sup.spawn(Task::SweeperTimer, std::future::pending::<()>());
    let bad = sup.finish(Duration::from_secs(5)).await;
    assert_eq!(
        bad,
        vec![Exit {
            task: Task::SweeperTimer,
            ended: Ended::Overran
        }]
    );
}
