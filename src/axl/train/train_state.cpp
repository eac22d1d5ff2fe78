#include "axl/train/train_state.h"

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/core/json_file.h"

namespace axl::train {

bool TrainState::record_eval_loss(double eval_loss, const std::string& checkpoint) {
  if (!best_metric || eval_loss < *best_metric) {
    best_metric = eval_loss;
    best_global_step = global_step;
    if (!checkpoint.empty()) best_model_checkpoint = checkpoint;
    early_stopping_patience_counter = 0;
    return true;
  }
  ++early_stopping_patience_counter;
  return false;
}

nlohmann::json TrainState::to_json() const {
  using nlohmann::json;
  json j;
  j["best_global_step"] = best_global_step ? json(*best_global_step) : json(nullptr);
  j["best_metric"] = best_metric ? json(*best_metric) : json(nullptr);
  j["best_model_checkpoint"] = best_model_checkpoint ? json(*best_model_checkpoint) : json(nullptr);
  j["epoch"] = epoch;
  j["eval_steps"] = eval_steps;
  j["global_step"] = global_step;
  j["is_hyper_param_search"] = false;
  j["is_local_process_zero"] = true;
  j["is_world_process_zero"] = true;
  j["log_history"] = log_history;
  j["logging_steps"] = logging_steps;
  j["max_steps"] = max_steps;
  j["num_input_tokens_seen"] = num_input_tokens_seen;
  j["num_train_epochs"] = num_train_epochs;
  j["save_steps"] = save_steps;
  j["stateful_callbacks"] = {
      {"EarlyStoppingCallback",
       {{"args", json::object()},
        {"attributes", {{"early_stopping_patience_counter", early_stopping_patience_counter}}}}},
      {"AxolotlCppResume", {{"attributes", {{"micro_step", micro_step}, {"scheduler_steps", scheduler_steps}}}}},
      // What HF's Trainer records at a save (its TrainerControl flags); read by nobody here.
      {"TrainerControl",
       {{"args",
         {{"should_epoch_stop", false},
          {"should_evaluate", false},
          {"should_log", false},
          {"should_save", true},
          {"should_training_stop", max_steps > 0 && global_step >= max_steps}}},
        {"attributes", json::object()}}}};
  if (data_position) j["stateful_callbacks"]["AxolotlCppResume"]["attributes"]["data_position"] = data_position->to_json();
  if (stream_position)
    j["stateful_callbacks"]["AxolotlCppResume"]["attributes"]["stream_position"] = stream_position->to_json();
  if (loss_scale) {
    auto& resume = j["stateful_callbacks"]["AxolotlCppResume"]["attributes"];
    resume["loss_scale"] = *loss_scale;
    resume["loss_scale_growth_tracker"] = loss_scale_growth_tracker;
  }
  j["total_flos"] = 0;
  j["train_batch_size"] = train_batch_size;
  j["trial_name"] = nullptr;
  j["trial_params"] = nullptr;
  return j;
}

TrainState TrainState::from_json(const nlohmann::json& j, const std::string& where) {
  TrainState s;
  try {
    s.global_step = j.at("global_step").get<int64_t>();
    s.epoch = j.value("epoch", 0.0);
    s.max_steps = j.value("max_steps", int64_t{0});
    s.num_train_epochs = j.value("num_train_epochs", 0.0);
    s.num_input_tokens_seen = j.value("num_input_tokens_seen", int64_t{0});
    s.logging_steps = j.value("logging_steps", int64_t{0});
    s.eval_steps = j.value("eval_steps", int64_t{0});
    s.save_steps = j.value("save_steps", int64_t{0});
    s.train_batch_size = j.value("train_batch_size", int64_t{0});
    if (j.contains("best_metric") && !j["best_metric"].is_null()) s.best_metric = j["best_metric"].get<double>();
    if (j.contains("best_global_step") && !j["best_global_step"].is_null())
      s.best_global_step = j["best_global_step"].get<int64_t>();
    if (j.contains("best_model_checkpoint") && !j["best_model_checkpoint"].is_null())
      s.best_model_checkpoint = j["best_model_checkpoint"].get<std::string>();
    if (j.contains("log_history"))
      for (const auto& e : j["log_history"]) s.log_history.push_back(e);
    const auto cb = j.value("stateful_callbacks", nlohmann::json::object());
    if (cb.contains("EarlyStoppingCallback"))
      s.early_stopping_patience_counter =
          cb["EarlyStoppingCallback"]["attributes"].value("early_stopping_patience_counter", int64_t{0});
    if (cb.contains("AxolotlCppResume")) {
      s.micro_step = cb["AxolotlCppResume"]["attributes"].value("micro_step", int64_t{0});
      s.scheduler_steps = cb["AxolotlCppResume"]["attributes"].value("scheduler_steps", s.global_step);
      const auto& resume = cb["AxolotlCppResume"]["attributes"];
      if (resume.contains("data_position"))
        s.data_position = data::DataPosition::from_json(resume["data_position"], where);
      if (resume.contains("stream_position"))
        s.stream_position = data::SavedStreamPosition::from_json(resume["stream_position"], where);
      if (resume.contains("loss_scale")) {
        s.loss_scale = resume["loss_scale"].get<double>();
        s.loss_scale_growth_tracker = resume.value("loss_scale_growth_tracker", int64_t{0});
      }
    } else {
      s.scheduler_steps = s.global_step;
    }
  } catch (const nlohmann::json::exception& e) {
    throw axl::Error(where + ": not a trainer state (" + e.what() + ")");
  }
  return s;
}

void TrainState::save(const std::string& path) const {
  write_file_atomic(path, to_json().dump(2) + "\n");
}

TrainState TrainState::load(const std::string& path) {
  return from_json(read_json_file(path), path);
}

}  // namespace axl::train
