// The LoRA family against PEFT's fixtures through the shared method checks (method_fixture.h):
// plain LoRA, rsLoRA, LoRA with modules_to_save.
#include "tests/peft/method_fixture.h"

namespace {

TEST(LoraFamilyFixtures, MatchPeft) {
  AXL_REQUIRE_FIXTURE(llama, "hf-tiny/LlamaForCausalLM");
  for (const std::string m : {"lora_rslora", "lora_modules_to_save"}) {
    auto f = axl::test::MethodFixture::methods_folder(llama, m);
    auto e = axl::test::check_method_fixture(f);
    EXPECT_LE(e.logits, 1e-4) << m;
    EXPECT_LE(e.loss, 1e-4) << m;
    EXPECT_LE(e.grads, 1e-4) << m;
    EXPECT_LE(e.merged, 1e-4) << m;
    EXPECT_GT(e.grad_count, 0u) << m;
    std::printf("%s: logits %.2e loss %.2e grads %.2e (%zu) merged %.2e\n", m.c_str(), e.logits, e.loss, e.grads,
                e.grad_count, e.merged);
  }
}

}  // namespace
