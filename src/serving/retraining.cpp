// SPDX-License-Identifier: MIT
// Retraining: a new version trained from the group's current data and deployed, on the caller's
// thread or a background one, by request or automatically after enough events or time.
#include <chrono>
#include <optional>
#include <tuple>

#include "serving/campaign_impl.hpp"
#include "serving/live_popularity.hpp"

namespace tailor {

namespace {
// Thrown from a training's progress callback when the campaign is being destroyed; not an error:
// nothing reports it, and it never leaves the retrain thread.
struct RetrainCancelled {};

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void Campaign::Impl::mark_trained() {
  events_since_training_ = 0;
  last_training_seconds_ = seconds_now();
}

void Campaign::Impl::count_events(std::size_t events) {
  const std::size_t total = events_since_training_ += events;
  const bool by_count = options_.retrain_every_events > 0 && total >= options_.retrain_every_events;
  const bool by_time =
      options_.retrain_every_seconds > 0 && events > 0 &&
      seconds_now() - last_training_seconds_.load() >= options_.retrain_every_seconds;
  if (by_count || by_time) retrain_async();
}

SolutionVersion Campaign::Impl::train_and_deploy() {
  struct Copy {
    EventColumns events;
    Index users = 0, items = 0;
    std::vector<std::uint32_t> lengths;
    std::size_t rows = 0;
    std::shared_ptr<const ItemFeatureTable> features;
  };
  Copy c = group_->read([&](const DatasetGroup& g) {
    Copy out;
    out.events = solution_.select_events(g);
    out.users = g.user_ids().size();
    out.items = g.item_ids().size();
    std::tie(out.lengths, out.rows) = detail::history_lengths(g);
    out.features = ItemFeatureTable::build(g.items(), out.items);
    return out;
  });
  mark_trained();
  // UPDATE extends the version being served; hold it so that a concurrent deploy cannot free it.
  const std::shared_ptr<const SolutionVersion> served = snapshot()->version;
  TrainOptions training = options_.training;
  if (!training.item_features) training.item_features = std::move(c.features);
  training.progress = [this, report = std::move(training.progress)](const TrainingProgress& p) {
    if (closing_.load()) throw RetrainCancelled{};
    if (report) report(p);
  };
  SolutionVersion trained =
      solution_.train(std::move(c.events), c.users, c.items, training,
                      options_.training.mode == TrainingMode::Update ? served.get() : nullptr);
  if (closing_.load()) throw RetrainCancelled{};
  deploy(trained, std::move(c.lengths), c.rows);  // a copy shares the model
  return trained;
}

void Campaign::Impl::retrain() {
  auto failed = [this](const std::string& error) {
    {
      std::lock_guard<std::mutex> lock(retrain_error_mutex_);
      last_retrain_error_ = error;
    }
    if (options_.on_retrain_error) options_.on_retrain_error(error);  // no lock held
  };
  std::optional<SolutionVersion> trained;
  try {
    trained = train_and_deploy();
  } catch (const RetrainCancelled&) {
    throw;  // the campaign is being destroyed: nobody is left to tell
  } catch (const std::exception& e) {
    failed(e.what());
    throw;
  } catch (...) {
    failed("retrain failed with an unknown exception");
    throw;
  }
  {
    std::lock_guard<std::mutex> lock(retrain_error_mutex_);
    last_retrain_error_.reset();
  }
  if (options_.on_retrain_success) options_.on_retrain_success(*trained);  // no lock held
}

bool Campaign::Impl::retrain_async() {
  // Checked before the lock too: a callback on the retrain thread (or put_events() from it) must
  // not wait for the lock that wait_for_retrain() holds while joining that thread.
  if (retraining_.load()) return false;
  std::lock_guard<std::mutex> lock(retrain_mutex_);
  if (retraining_.load()) return false;
  if (retrain_thread_.joinable()) retrain_thread_.join();
  retraining_ = true;
  retrain_thread_ = std::thread([this] {
    try {
      retrain();
    } catch (...) {
      // Reported by retrain() (last_retrain_error(), on_retrain_error); the served version
      // stays. Nothing may escape the thread, a callback's own exception included.
    }
    retraining_ = false;
  });
  return true;
}

void Campaign::Impl::wait_for_retrain() {
  std::lock_guard<std::mutex> lock(retrain_mutex_);
  if (retrain_thread_.joinable()) retrain_thread_.join();
}

}  // namespace tailor
