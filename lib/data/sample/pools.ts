/**
 * Word pools of the sample-data generator: invented names are built from these characters and
 * words, so the character inventory stays modest (a corpus vocabulary stays small).
 * @module
 */

/** Single-character surnames. */
export const SURNAMES = Array.from(
  "林陳王李張黃吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江何蕭羅高潘簡朱鍾游彭詹胡施沈余盧梁趙顏柯翁魏孫戴范方宋鄧杜傅侯曹薛丁卓馬董唐藍石蔣古紀姚連馮程湯黎田姜白",
);

/** Two-character surnames (rare). */
export const COMPOUND_SURNAMES = ["歐陽", "司馬", "諸葛", "上官", "東方"];

/** Characters of given names. */
export const GIVEN_CHARS = Array.from(
  "志遠明華美玲俊傑宏文淑芬雅婷建國家豪嘉欣怡君佳琪子涵宇軒柏翰承恩冠廷育誠詩思妤品孟書瑜昱心睿彥哲安晴若穎筱凱翔偉信德鴻銘琳惠慧蓉秀珍麗春梅蘭清正和平榮祥福泰立中仁義勇智",
);

/** Characters of place names. */
export const PLACE_CHARS = Array.from(
  "北南東西濱川山湖海灣谷原岩峰嶺溪泉島雲霞星月光寧康豐富興盛昌隆新長永金銀玉翠青紅龍鳳鶴松竹楓桐柳沙嵐朝暮秋冬夏碧靜蘆桃杏橋",
);

/** Place suffixes with the title of the place's head. */
export const PLACE_KINDS: readonly { suffix: string; head: string; ref: string }[] = [
  { suffix: "市", head: "市長", ref: "該市" },
  { suffix: "市", head: "市長", ref: "該市" },
  { suffix: "鎮", head: "鎮長", ref: "該鎮" },
  { suffix: "港", head: "市長", ref: "當地" },
  { suffix: "城", head: "市長", ref: "該城" },
];

/** Characters of organisation and event names. */
export const BRAND_CHARS = Array.from(
  "晨光遠航藍海星河天宇恆信聯合博遠卓越創新宏達瑞豐永盛匯通啟明曜華優品鼎立萬象凌雲翔飛智慧綠洲",
);

/** Organisation kinds: name suffix, how the text refers back to it, its trade. */
export const ORG_KINDS: readonly { suffix: string; ref: string; trade: string }[] = [
  { suffix: "電子公司", ref: "該公司", trade: "電子零件" },
  { suffix: "科技公司", ref: "該公司", trade: "軟體服務" },
  { suffix: "航空公司", ref: "該公司", trade: "航空運輸" },
  { suffix: "出版社", ref: "該出版社", trade: "圖書出版" },
  { suffix: "食品公司", ref: "該公司", trade: "食品加工" },
  { suffix: "製藥公司", ref: "該公司", trade: "藥品研發" },
  { suffix: "研究所", ref: "該研究所", trade: "材料研究" },
  { suffix: "銀行", ref: "該銀行", trade: "金融服務" },
  { suffix: "汽車公司", ref: "該公司", trade: "汽車製造" },
  { suffix: "建設公司", ref: "該公司", trade: "工程建設" },
];

/** Event kinds (name suffixes). */
export const EVENT_KINDS = [
  "音樂節",
  "電影節",
  "馬拉松",
  "書展",
  "科學展",
  "燈會",
  "美食節",
  "棋藝大賽",
];

/** Occupations. */
export const OCCUPATIONS = [
  "工程師",
  "作家",
  "音樂家",
  "物理學家",
  "建築師",
  "畫家",
  "醫師",
  "廚師",
  "登山家",
  "程式設計師",
  "攝影師",
  "歷史學家",
  "天文學家",
  "小提琴家",
  "導演",
];

/** Award names (a place or brand word is put in front). */
export const AWARD_KINDS = ["文學獎", "創新獎", "金星獎", "藝術獎", "青年獎", "科學獎"];

/** Local specialities of places. */
export const SPECIALTIES = [
  "茶葉",
  "陶瓷",
  "珍珠",
  "竹編",
  "米酒",
  "蜂蜜",
  "柑橘",
  "紙傘",
  "木雕",
  "海鹽",
  "花生糖",
  "綠豆糕",
];

/** Words of book titles. */
export const TITLE_WORDS = [
  "春天",
  "遠方",
  "星光",
  "海岸",
  "山谷",
  "回聲",
  "長夜",
  "燈塔",
  "河流",
  "旅人",
  "雨季",
  "森林",
  "故鄉",
  "夢境",
  "時光",
  "信件",
];

/** Latin first names (English names of people). */
export const LATIN_FIRST_NAMES = [
  "Leo",
  "Mia",
  "Ethan",
  "Iris",
  "Kai",
  "Nora",
  "Owen",
  "Ruby",
  "Ivan",
  "Lena",
  "Oscar",
  "Vera",
  "Hugo",
  "Alice",
  "Felix",
  "Clara",
  "Max",
  "Zoe",
  "Adam",
  "Eva",
];

/** Latin syllables of invented English place names (prefix + suffix). */
export const LATIN_PLACE_HEADS = [
  "Ar",
  "Bel",
  "Cor",
  "Dun",
  "El",
  "Fen",
  "Gal",
  "Hal",
  "Kel",
  "Lor",
  "Mar",
  "Nor",
  "Pel",
  "Ros",
  "Sar",
  "Tor",
  "Val",
  "Wen",
];
/** Second halves of invented English place names. */
export const LATIN_PLACE_TAILS = [
  "ford",
  "haven",
  "vale",
  "mont",
  "wick",
  "ton",
  "bury",
  "dale",
  "port",
  "field",
];

/** Latin product names. */
export const PRODUCT_WORDS = [
  "Nova",
  "Lumen",
  "Aster",
  "Orion",
  "Vega",
  "Helix",
  "Zephyr",
  "Quartz",
  "Nimbus",
  "Echo",
  "Pixel",
  "Atlas",
  "Comet",
  "Terra",
  "Aqua",
  "Flux",
  "Prism",
  "Vertex",
  "Sigma",
  "Titan",
  "Lyra",
  "Cobalt",
  "Ember",
  "Falcon",
];

/** Hobbies (filler sentences). */
export const HOBBIES = ["爬山", "下棋", "釣魚", "園藝", "攝影", "閱讀", "游泳", "書法"];
